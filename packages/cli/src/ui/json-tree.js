import { useState } from 'preact/hooks';
import { html } from './common.js';
import { looksLikeOmiseId } from './format.js';

function Scalar({ value, onId }) {
  if (value === null) return html`<span class="json-null">null</span>`;
  if (typeof value === 'string') {
    if (onId && looksLikeOmiseId(value)) {
      return html`<button type="button" class="json-string json-id" title="Search for ${value}" onClick=${() => onId(value)}>"${value}"</button>`;
    }
    return html`<span class="json-string">${JSON.stringify(value)}</span>`;
  }
  if (typeof value === 'number') return html`<span class="json-number">${String(value)}</span>`;
  if (typeof value === 'boolean') return html`<span class="json-boolean">${String(value)}</span>`;
  return html`<span>${String(value)}</span>`;
}

function Node({ name, value, depth, openDepth, onId, last }) {
  const isArray = Array.isArray(value);
  const isObject = value !== null && typeof value === 'object';
  const [open, setOpen] = useState(depth < openDepth);
  const comma = last ? '' : ',';
  const label = name === undefined ? null : html`<span class="json-key">${JSON.stringify(name)}</span>: `;
  if (!isObject) {
    return html`<div class="json-line">${label}<${Scalar} value=${value} onId=${onId} />${comma}</div>`;
  }
  const entries = isArray ? value.map((item, index) => [index, item]) : Object.entries(value);
  const [openMark, closeMark] = isArray ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return html`<div class="json-line">${label}${openMark}${closeMark}${comma}</div>`;
  const summary = isArray
    ? `${entries.length} item${entries.length === 1 ? '' : 's'}`
    : `${entries.length} field${entries.length === 1 ? '' : 's'}`;
  return html`<div class="json-node">
    <div class="json-line">
      <button type="button" class="json-toggle" aria-expanded=${open} onClick=${() => setOpen(!open)}>
        <span aria-hidden="true">${open ? '▾' : '▸'}</span><span class="visually-hidden">${open ? 'Collapse' : 'Expand'}</span>
      </button>
      ${label}${openMark}${open ? '' : html`<span class="json-summary"> ${summary} </span>${closeMark}${comma}`}
    </div>
    ${
      open &&
      html`<div class="json-children">
          ${entries.map(
            ([key, item], index) =>
              html`<${Node}
                key=${key}
                name=${isArray ? undefined : key}
                value=${item}
                depth=${depth + 1}
                openDepth=${openDepth}
                onId=${onId}
                last=${index === entries.length - 1}
              />`,
          )}
        </div>
        <div class="json-line">${closeMark}${comma}</div>`
    }
  </div>`;
}

/** A collapsible view of a JSON value; Omise ids in it are buttons that search for them. */
export function JsonTree({ value, openDepth = 3, onId }) {
  return html`<div class="json-tree">
    <${Node} value=${value} depth=${0} openDepth=${openDepth} onId=${onId} last=${true} />
  </div>`;
}
