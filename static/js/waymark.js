/* Waymark behaviour: progressive enhancement only; the site works without it.
 * No inline script anywhere (CSP): everything hooks in from here. */
(function () {
  "use strict";

  /* Process swapped-in fragments at once: with htmx's default 20 ms settle delay a fast second
   * click could land on a not-yet-wired form and fall back to a full page post. We use no
   * settle transitions. */
  if (window.htmx) window.htmx.config.defaultSettleDelay = 0;

  var STATUS_KEYS = { n: "not_started", i: "in_progress", d: "done", s: "skipped" };
  var ROW = "[data-resource-row]";

  /* Focus after an HTMX swap: the server marks the element that should hold focus in the
   * new fragment (the status button just pressed, the note editor, the "Edit note" link)
   * with data-autofocus, since the element that had focus was swapped out. */
  document.addEventListener("htmx:afterSettle", function () {
    var target = document.querySelector("[data-autofocus]");
    if (!target) return;
    target.removeAttribute("data-autofocus");
    /* The track editor shows what was just done beside the item it was done to
     * (.curation-notice): bring that item's row or heading into view whole, so the words are
     * seen with the control that keeps focus, not cut off above it. */
    var notice = document.querySelector(".curation-notice");
    var holder = notice && notice.closest("li, .curation-head");
    if (holder && holder.contains(target)) holder.scrollIntoView({ block: "nearest" });
    target.focus({ preventScroll: false });
  });

  /* A section swapped while focus was in it (a form saved, an invite created or revoked, a
   * teammate added) takes focus with it: the element that had it is gone, and focus fell to
   * the page's top. Unless the answer marked a place itself (data-autofocus, above), focus
   * goes to the new section's first field with an error, else its message, else its heading,
   * so a keyboard or screen-reader user carries on where they were. */
  var focusWasIn = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var active = document.activeElement;
    focusWasIn = target && target.id && active && active !== document.body && target.contains(active)
      ? target.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var id = focusWasIn;
    focusWasIn = null;
    if (!id || (document.activeElement && document.activeElement !== document.body)) return;
    var root = document.getElementById(id);
    if (!root) return;
    var spot = root.querySelector("[aria-invalid='true']") ||
      root.querySelector("[role='alert'], [role='status'], [data-announce], .message") ||
      root.querySelector("h1, h2, h3") || root;
    if (!spot.matches("a[href], button, input, select, textarea, [tabindex]")) spot.setAttribute("tabindex", "-1");
    spot.focus({ preventScroll: false });
  });

  /* What a swap brought, in a few words: a result that arrives as new nodes (a filtered table,
   * a page of a queue, an item saved in the editor) marks its summary with data-announce, and
   * it is said through #announcer (base.html), a polite live region on the page from the start:
   * screen readers announce a region whose content changes, not one that arrives whole. Text
   * that holds focus is read anyway. What one swap brings is said together (its afterSettle
   * events run in one go); a later swap's words replace words not yet said. */
  var toSay = null;
  var sayTimer = null;
  function announce(text) {
    if (!text) return;
    if (!toSay) {
      toSay = [];
      Promise.resolve().then(sayNow);
    }
    if (toSay.indexOf(text) === -1) toSay.push(text);
  }
  function sayNow() {
    var box = document.getElementById("announcer");
    var text = toSay.join(" ");
    toSay = null;
    if (!box) return;
    box.textContent = ""; // emptied first, so the same words as last time are news again
    window.clearTimeout(sayTimer);
    sayTimer = window.setTimeout(function () { box.textContent = text; }, 100);
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    var root = event.target;
    if (!root || !root.querySelectorAll) return;
    var marked = Array.prototype.slice.call(root.querySelectorAll("[data-announce]"));
    if (root.matches("[data-announce]")) marked.unshift(root);
    marked.forEach(function (element) {
      if (element.contains(document.activeElement)) return;
      announce(element.textContent.replace(/\s+/g, " ").trim());
    });
  });

  /* A status change answers with its whole row, which held the row's note editor if one was
   * open: the typing in it was lost without a word. Keep the open editor (the same element,
   * still wired) and put it back in place of the new row's note view. */
  var openEditors = {};
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.matches || !target.matches(ROW)) return;
    var editor = target.querySelector("form.note-form");
    if (editor) openEditors[target.id] = editor;
  });
  document.addEventListener("htmx:afterSwap", function () {
    Object.keys(openEditors).forEach(function (rowId) {
      var editor = openEditors[rowId];
      delete openEditors[rowId];
      var row = document.getElementById(rowId);
      var view = row && row.querySelector("#" + CSS.escape(editor.id));
      if (view && view !== editor) view.replaceWith(editor);
    });
  });

  function isTyping(element) {
    if (!element || !element.closest) return false;
    return Boolean(element.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
  }

  /* j and k stop at the rows and at the box of each module of a large track whose rows have not
   * loaded yet (they stopped at the last loaded row, while Tab went on into the next module). */
  var MORE = ".module-more";
  var STOP = ROW + ", " + MORE;
  var pendingMove = null;

  function stopsIn(root) {
    return Array.prototype.slice.call(root.querySelectorAll(STOP));
  }

  /* Where j (step 1) or k (step -1) goes from `from`: a stop, or any other element of the
   * track (the first stop after it, the last before it). From a module's box (its link
   * focused) j goes into that module. */
  function stopFrom(page, from, step) {
    var all = stopsIn(page);
    if (step > 0 && from.matches(MORE)) return from;
    var index = all.indexOf(from);
    if (index !== -1) return all[index + step] || null;
    var side = step > 0 ? Node.DOCUMENT_POSITION_FOLLOWING : Node.DOCUMENT_POSITION_PRECEDING;
    var found = all.filter(function (stop) { return from.compareDocumentPosition(stop) & side; });
    return (step > 0 ? found[0] : found[found.length - 1]) || null;
  }

  function goTo(stop, step) {
    if (!stop) return;
    if (stop.matches(MORE)) loadThenMove(stop, step);
    else stop.focus();
  }

  /* Ask for the module's rows with its link's own htmx request (as when it comes into view)
   * and move on once they have arrived (below). Without htmx its link is the way in. */
  function loadThenMove(box, step) {
    var link = box.querySelector("[data-module-more]");
    var section = box.closest("section");
    if (!link || !section) return;
    if (!window.htmx) { link.focus(); return; }
    pendingMove = { section: section, step: step, from: document.activeElement };
    if (box.classList.contains("htmx-request")) return; // on its way already
    link.setAttribute("data-hx-revealed", "true"); // so scrolling to it does not ask again
    window.htmx.trigger(link, "revealed");
  }

  document.addEventListener("htmx:afterSettle", function () {
    var move = pendingMove;
    if (!move || (move.section.isConnected && move.section.querySelector(MORE))) return;
    pendingMove = null;
    var page = move.section.closest("[data-track-page]");
    var active = document.activeElement;
    // Focus moved on meanwhile (a click, Tab): leave it there.
    var stayed = !active || active === document.body || active === move.from || move.section.contains(active);
    if (!page || !stayed) return;
    var inside = stopsIn(move.section);
    var stop = inside.length ? inside[move.step > 0 ? 0 : inside.length - 1] : stopFrom(page, move.section, move.step);
    goTo(stop, move.step);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    // The module waited for failed to load (the page says so): nothing to move into.
    var elt = event.detail.elt;
    if (pendingMove && !event.detail.successful && elt && pendingMove.section.contains(elt)) pendingMove = null;
  });

  function openDialog(id) {
    var dialog = document.getElementById(id);
    if (dialog && typeof dialog.showModal === "function" && !dialog.open) dialog.showModal();
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-open-dialog]");
    if (opener) openDialog(opener.getAttribute("data-open-dialog"));
  });

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;
    var page = document.querySelector("[data-track-page]");
    if (!page || document.querySelector("dialog[open]")) return;
    // Only while focus is in the track itself (WCAG 2.1.4): a stray key or a speech command
    // with focus in the site's header or footer must not jump about the page.
    if (!page.contains(event.target)) return;

    if (event.key === "?") {
      if (document.getElementById("shortcut-help")) {
        event.preventDefault();
        openDialog("shortcut-help");
      }
      return;
    }
    var row = event.target.closest ? event.target.closest(ROW) : null;
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      var step = event.key === "j" ? 1 : -1;
      var from = (event.target.closest && event.target.closest(STOP)) || event.target;
      goTo(stopFrom(page, from, step), step);
      return;
    }
    var status = STATUS_KEYS[event.key];
    if (row && status) {
      var button = row.querySelector('button[name="status"][value="' + status + '"]');
      if (button) {
        event.preventDefault();
        button.click(); // a real click, so it goes through htmx (or the plain form post)
      }
    }
  });

  /* htmx swaps nothing when a request fails, so a click during an outage (the database
   * restarting, the connection gone) would seem to do nothing: say that it was not saved. */
  function requestProblem(text) {
    var box = document.getElementById("request-problem");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }
  /* A large track's module that failed to load changed nothing: say so, and point at its link
   * (the page with that module), which still works. */
  function isModuleLoad(event) {
    var detail = event.detail || {};
    // After the swap htmx repeats afterRequest on an ancestor still in the page (as detail.elt):
    // the target (the module's box, now replaced) still says what the request was for.
    var elt = detail.elt, target = detail.target;
    return Boolean((elt && elt.matches && elt.matches("[data-module-more]")) ||
                   (target && target.matches && target.matches(".module-more")));
  }
  var MODULE_PROBLEM = "A module of this track could not be loaded. Use its “Show its …” link to try again.";
  document.addEventListener("htmx:responseError", function (event) {
    if (isModuleLoad(event)) {
      requestProblem(MODULE_PROBLEM);
      return;
    }
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status >= 500) {
      requestProblem("That change was not saved: Waymark is briefly unavailable. Try again in a moment.");
    } else if (status === 403) {
      // Nearly always a page opened before a log-in or log-out in another tab (its form's
      // token is stale) or a session that ended: reloading brings a page that works.
      requestProblem("That change was not saved: this page is out of date (did you log in or out in another tab?). Reload the page and try again.");
    } else if (status >= 400) {
      requestProblem("That change was not saved: this page is out of date. Reload the page and try again.");
    }
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (isModuleLoad(event)) {
      requestProblem(MODULE_PROBLEM);
      return;
    }
    requestProblem("That change was not saved: Waymark could not be reached. Check your connection and try again.");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    // A module that loaded says nothing of one that did not; a saved change clears the message.
    if (event.detail.successful && !isModuleLoad(event)) requestProblem("");
  });

  /* A large track's later modules load as they come into view. A link from elsewhere (the
   * dashboard, an email, the history) to a resource in one of them finds no row to scroll to:
   * ask the page again for the module holding it (?item=), which the server renders in full. */
  function openLinkedItem() {
    var match = /^#(resource|capstone)-([\w-]+)$/.exec(window.location.hash);
    if (!match || document.getElementById(match[1] + "-" + match[2])) return;
    if (!document.querySelector("[data-module-more]")) return;
    var url = new URL(window.location.href);
    if (url.searchParams.has("item")) return; // asked already: the item is gone
    url.searchParams.set("item", match[2]);
    window.location.replace(url.toString());
  }

  /* Track editor: drag a module, or a resource or capstone within its list, to another place.
   * The row moves under the pointer as it is dragged; on release the new place (counted from
   * 1) is posted to the same action the Move up / Move down buttons use, which answers with
   * the outline (keyboard users keep those buttons). */
  var MOVABLE = "[data-move-url]";
  var dragged = null;
  var startedAt = -1;

  function movableSiblings(item) {
    return Array.prototype.filter.call(item.parentNode.children, function (child) {
      return child.matches(MOVABLE);
    });
  }

  function makeDraggable(root) {
    var items = root.querySelectorAll ? root.querySelectorAll(MOVABLE) : [];
    for (var i = 0; i < items.length; i++) items[i].draggable = true;
    if (root.matches && root.matches(MOVABLE)) root.draggable = true;
  }
  if (window.htmx) window.htmx.onLoad(makeDraggable);

  /* A press in a field of an item's open edit form selects text, never drags the item (or
   * the module around it): Firefox starts a drag from a field inside a draggable element;
   * Chromium does not, so the browser tests here cannot show this one. */
  document.addEventListener("mousedown", function (event) {
    if (!event.target.closest) return;
    var inField = Boolean(event.target.closest("input, textarea, select, [contenteditable]"));
    for (var item = event.target.closest(MOVABLE); item; item = item.parentNode.closest(MOVABLE)) {
      item.draggable = !inField;
    }
  });

  document.addEventListener("dragstart", function (event) {
    var item = event.target;
    if (!item.matches || !item.matches(MOVABLE)) return; // a link or text inside: not ours
    dragged = item;
    startedAt = movableSiblings(item).indexOf(item);
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.id);
    item.classList.add("dragging");
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var over = event.target.closest ? event.target.closest(MOVABLE) : null;
    while (over && over.parentNode !== dragged.parentNode) {
      over = over.parentNode.closest(MOVABLE);
    }
    if (!over) return;
    event.preventDefault();
    if (over === dragged) return;
    var box = over.getBoundingClientRect();
    var below = event.clientY > box.top + box.height / 2;
    over.parentNode.insertBefore(dragged, below ? over.nextSibling : over);
  });

  document.addEventListener("drop", function (event) {
    if (dragged) event.preventDefault();
  });

  /* An item's open edit form holds typing of its own. A move, archive or restore answers with
   * the whole outline, which would drop that form: ask first, and leave everything as it was
   * when the answer is no. */
  var UNSAVED = ".curation-editing form[data-unsaved]";
  var askedAlready = false;
  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest(".curation-editing form");
    if (form) form.setAttribute("data-unsaved", "");
  });
  function mayDropUnsavedTyping() {
    if (!document.querySelector(UNSAVED)) return true;
    return window.confirm("An edit form on this page has changes that are not saved. Drop them and go on?");
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "outline-body") return;
    if (askedAlready) { askedAlready = false; return; }
    if (!mayDropUnsavedTyping()) event.preventDefault();
  });
  /* Saving a resource or capstone given another module in its form answers with the whole
   * outline too (its row changes lists): ask first when another open form holds typing. */
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches(".curation-editing form")) return;
    var select = form.querySelector("select[name=module]");
    var option = select && select.options[select.selectedIndex];
    if (!option || option.defaultSelected) return;
    var typed = document.querySelectorAll(UNSAVED);
    for (var i = 0; i < typed.length; i++) {
      if (typed[i] === form) continue;
      if (!window.confirm("Another edit form on this page has changes that are not saved. Drop them and go on?")) event.preventDefault();
      return;
    }
  });
  function putBack(item) {
    var others = movableSiblings(item).filter(function (other) { return other !== item; });
    var before = others[startedAt];
    if (before) item.parentNode.insertBefore(item, before);
    else if (others.length) item.parentNode.insertBefore(item, others[others.length - 1].nextSibling);
  }

  document.addEventListener("dragend", function () {
    if (!dragged) return;
    var item = dragged;
    dragged = null;
    item.classList.remove("dragging");
    var place = movableSiblings(item).indexOf(item);
    if (place === startedAt || !window.htmx) return;
    if (!mayDropUnsavedTyping()) { putBack(item); return; }
    askedAlready = true;
    window.htmx.ajax("POST", item.getAttribute("data-move-url"), {
      source: item,
      target: "#outline-body",
      swap: "outerHTML",
      values: { place: String(place + 1) }
    });
  });

  /* The shortcuts button, and words about dragging, only make sense with JavaScript; reveal
   * them once the page is wired up (htmx, loaded before this file, processes the page on
   * DOMContentLoaded too). */
  function reveal() {
    var openers = document.querySelectorAll("[data-open-dialog][hidden], [data-needs-js][hidden]");
    for (var i = 0; i < openers.length; i++) openers[i].hidden = false;
  }
  function ready() {
    reveal();
    openLinkedItem();
  }
  if (document.readyState === "complete") ready();
  else document.addEventListener("DOMContentLoaded", ready);
  window.addEventListener("hashchange", openLinkedItem);
})();
