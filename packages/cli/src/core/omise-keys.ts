/**
 * The shape of Omise's test-mode keys, as the fake Omise and `fake-omise` accept them: any key
 * of this shape stands for "a test account" (live keys never reach the fake).
 */
export const TEST_SECRET_KEY = /^skey_test_[0-9a-z]+$/;
export const TEST_PUBLIC_KEY = /^pkey_test_[0-9a-z]+$/;
