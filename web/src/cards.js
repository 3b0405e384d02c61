// cards.js - tables as cards on phones (issue 18): below 600 px a
// table.cards shows each row as a card (app.css), each cell led by its
// column's name. labelCells() gives every cell of such tables under root
// the data-label of its column's header; watchCards() keeps doing so as
// pages render and lists grow.

// Sets data-label on the cells of every table.cards under root that lack one.
export function labelCells(root) {
  for (const table of root.querySelectorAll('table.cards')) {
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
    if (!heads.length) continue;
    for (const tr of table.querySelectorAll('tbody tr'))
      [...tr.children].forEach((td, i) => { if (!td.dataset.label && heads[i]) td.dataset.label = heads[i]; });
  }
}

// Labels the cards under root now and whenever its content changes.
export function watchCards(root) {
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => { queued = false; labelCells(root); });
  }).observe(root, { childList: true, subtree: true });
}
