// dom.js - a tiny element builder: h('div.card', {onclick}, child, ...).
// Strings become text nodes (never HTML), so data from the API cannot
// inject markup.
// An '#id' anywhere in tag sets the element's id: h('ul.plain#missing').
export function h(tag, attrs, ...children) {
  const id = tag.match(/#([\w-]+)/)?.[1];
  const [name, ...classes] = tag.replace(/#[\w-]+/, '').split('.');
  const el = document.createElement(name || 'div');
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(' ');
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
    else if (k === 'style') el.style.cssText = v; // CSSOM: the CSP allows no style attributes
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// Replaces el's content with children.
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// Loads a classic script (a vendor library) once; resolves when it ran.
const loaded = new Map();
export function loadScript(src) {
  if (!loaded.has(src)) {
    loaded.set(src, new Promise((ok, fail) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = ok;
      s.onerror = () => fail(new Error(`cannot load ${src}`));
      document.head.append(s);
    }));
  }
  return loaded.get(src);
}

export function loadCss(href) {
  if (!document.querySelector(`link[href="${href}"]`))
    document.head.append(h('link', { rel: 'stylesheet', href }));
}

// A block that folds away on phones (issue 18): open from 600 px wide,
// closed below, behind its summary label.
export function fold(label, ...content) {
  return h('details.fold', { open: innerWidth >= 600 }, h('summary', label), ...content);
}
