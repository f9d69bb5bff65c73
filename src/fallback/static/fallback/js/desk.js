/* The desk's keyboard: the search box as a combobox (type, then Up/Down to choose, Enter to
   open or take), "/" to come back to the search box, and the document form's lines
   (remove a line, totals refreshed when lines come and go). No framework; htmx does the
   requests. */
(function () {
  "use strict";

  function resultsOf(box) {
    return document.getElementById(box.getAttribute("aria-controls"));
  }

  function options(box) {
    var results = resultsOf(box);
    return results ? Array.prototype.slice.call(results.querySelectorAll('[role="option"]')) : [];
  }

  function activeIndex(box) {
    var n = parseInt(box.getAttribute("data-active") || "-1", 10);
    return isNaN(n) ? -1 : n;
  }

  function setActive(box, index) {
    var opts = options(box);
    if (index >= opts.length) index = opts.length - 1;
    opts.forEach(function (opt, i) {
      opt.setAttribute("aria-selected", i === index ? "true" : "false");
      opt.classList.toggle("active", i === index);
    });
    box.setAttribute("data-active", String(index));
    if (index >= 0 && opts[index]) {
      box.setAttribute("aria-activedescendant", opts[index].id);
      opts[index].scrollIntoView({ block: "nearest" });
    } else {
      box.removeAttribute("aria-activedescendant");
    }
  }

  function choose(box, opt) {
    if (opt.tagName === "A") {
      window.location.href = opt.href;
    } else {
      opt.click();
    }
  }

  function openChosen(box) {
    var opts = options(box);
    if (!opts.length) return false;
    var index = activeIndex(box);
    choose(box, opts[index >= 0 ? index : 0]);
    return true;
  }

  function isBox(el) {
    return el && el.hasAttribute && el.hasAttribute("data-desk-box");
  }

  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!isBox(box)) return;
    // Results on screen are for what was typed before: Enter waits for the new ones.
    box.setAttribute("data-stale", "1");
    if (!box.value.trim()) {
      var results = resultsOf(box);
      if (results) results.innerHTML = "";
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("data-stale");
      setActive(box, -1);
    }
  });

  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (isBox(box)) {
      var opts = options(box);
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (opts.length) setActive(box, Math.min(activeIndex(box) + 1, opts.length - 1));
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (opts.length) setActive(box, Math.max(activeIndex(box) - 1, -1));
      } else if (event.key === "Enter") {
        if (box.getAttribute("data-stale") === "1" && box.value.trim()) {
          event.preventDefault();
          box.setAttribute("data-open-when-ready", "1");
        } else if (openChosen(box) || box.hasAttribute("data-pick")) {
          // A pick box sits inside another form: Enter never submits that form.
          event.preventDefault();
        }
      } else if (event.key === "Escape") {
        if (activeIndex(box) >= 0) {
          setActive(box, -1);
        } else {
          box.value = "";
          var results = resultsOf(box);
          if (results) results.innerHTML = "";
          box.setAttribute("aria-expanded", "false");
        }
      }
      return;
    }
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      var target = event.target;
      var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
      if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) return;
      // The page's main search box, else its first one (a form's), else the desk home's.
      var shortcut =
        document.querySelector("[data-desk-box][data-shortcut]") ||
        document.querySelector("[data-desk-box]");
      if (shortcut) {
        event.preventDefault();
        shortcut.focus();
        shortcut.select();
        return;
      }
      var desk = window.location.pathname.match(/^\/o\/[^/]+\/desk\//);
      if (desk) {
        event.preventDefault();
        window.location.href = desk[0];
      }
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.id) return;
    var box = document.querySelector('[data-desk-box][aria-controls="' + target.id + '"]');
    if (box) {
      box.removeAttribute("data-stale");
      box.setAttribute("aria-expanded", options(box).length ? "true" : "false");
      setActive(box, -1);
      if (box.getAttribute("data-open-when-ready") === "1") {
        box.removeAttribute("data-open-when-ready");
        openChosen(box);
      }
      return;
    }
    if (target.id === "lines-body") {
      target.dispatchEvent(new CustomEvent("lines-changed", { bubbles: true }));
      var rows = target.querySelectorAll("tr");
      var last = rows[rows.length - 1];
      var qty = last && last.querySelector("input.qty");
      if (qty) {
        qty.focus();
        qty.select();
      }
    }
  });

  // A chosen result: once its request is answered, the pick box is emptied for the next one.
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-after-pick")) return;
    var results = elt.closest(".desk-results");
    var box = results && document.querySelector('[data-desk-box][aria-controls="' + results.id + '"]');
    if (box) {
      box.value = "";
      box.setAttribute("aria-expanded", "false");
      setActive(box, -1);
      results.innerHTML = "";
      box.focus();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-remove-line]");
    if (!button) return;
    var row = button.closest("tr");
    var body = row && row.parentNode;
    if (!row || !body) return;
    row.remove();
    body.dispatchEvent(new CustomEvent("lines-changed", { bubbles: true }));
  });
})();
