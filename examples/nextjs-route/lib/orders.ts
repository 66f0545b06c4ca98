// The shop's orders, by order id. A real app would use its database; a Map keeps the example small.

export interface Order {
  status: 'paid' | 'payment_failed';
  chargeId: string;
  amount: number;
}

export const orders = new Map<string, Order>();
