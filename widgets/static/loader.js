/* reviews-service loader: finds [data-reviews-widget] elements, makes one data.json request per
   business unit and locale, and fills them. No dependencies, no inline script or style needed, never throws. */
(function () {
  "use strict";
  /* The service replaces this object with "Read our reviews" in every language of its catalogs. */
  var FALLBACK = /* catalogs */ { en: "Read our reviews" } /* /catalogs */;
  var script = document.currentScript;
  var base = "";
  try { base = script && script.src ? script.src.replace(/\/widgets\/loader\.js(\?.*)?$/, "") : ""; } catch (e) { base = ""; }

  function warn(msg, err) { try { if (window.console) console.warn("[reviews] " + msg, err || ""); } catch (e) { /* ignore */ } }

  function lang(el) {
    var l = el.getAttribute("data-locale") || document.documentElement.getAttribute("lang") || "en";
    return l.slice(0, 2).toLowerCase();
  }

  function ensureStyles() {
    if (document.querySelector('link[data-reviews-css],link[href*="/widgets/widgets.css"]')) return;
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = base + "/widgets/widgets.css";
    link.setAttribute("data-reviews-css", "");
    (document.head || document.documentElement).appendChild(link);
  }

  function fallback(el) {
    if (el.getAttribute("data-reviews-state") === "ok") return;
    el.setAttribute("data-reviews-state", "unavailable");
    if (el.__rwOwn) return; /* the page's own content stays, alone: never glued to ours */
    var span = document.createElement("span");
    span.className = "rw-fallback";
    span.textContent = el.getAttribute("data-fallback") || FALLBACK[lang(el)] || FALLBACK.en;
    el.textContent = "";
    el.appendChild(span);
  }

  function trim(el) { /* one request serves lists of several lengths: each shows its own */
    var max = parseInt(el.getAttribute("data-limit"), 10) || 5, items = el.querySelectorAll("li.rw-review");
    for (var i = max; i < items.length; i++) items[i].parentNode.removeChild(items[i]);
    Array.prototype.forEach.call(el.querySelectorAll(".rw-toggle"), function (t) {
      var item = t.closest ? t.closest("li.rw-review") : null; /* beside photos it is not the text's sibling */
      var text = item ? item.querySelector(".rw-review-text") : t.previousElementSibling; /* only where it is cut */
      if (text && text.scrollHeight <= text.clientHeight + 1) t.className += " rw-fits";
    });
  }

  function fill(el, markup) {
    if (typeof markup !== "string") { fallback(el); return; }
    el.innerHTML = markup; /* the service escapes every review field */
    var theme = el.getAttribute("data-theme");
    var root = el.firstElementChild;
    if (theme && root) root.setAttribute("data-theme", theme);
    el.setAttribute("data-reviews-state", "ok");
    if (el.getAttribute("data-reviews-widget") === "reviews") trim(el);
  }

  function param(q, name, value) { return value ? q + "&" + name + "=" + encodeURIComponent(value) : q; }

  /* The query spells every value as the service resolves it (sorted skus, fixed order), so that each
     page shape is one cache entry there. */
  function load(bu, locale, els) {
    var skus = [], limit = 0, list = null, badge = 0;
    els.forEach(function (el) {
      var kind = el.getAttribute("data-reviews-widget"), sku = el.getAttribute("data-sku");
      if (kind === "product-stars" && sku && skus.indexOf(sku) < 0) skus.push(sku);
      if (kind === "badge") badge = 1;
      if (kind === "reviews") {
        limit = Math.max(limit, Math.min(parseInt(el.getAttribute("data-limit"), 10) || 5, 20));
        list = list || el;
      }
    });
    skus.sort();
    var q = "locale=" + encodeURIComponent(locale) + "&badge=" + badge;
    if (skus.length) q += "&skus=" + skus.map(encodeURIComponent).join(",");
    if (list) {
      q += "&reviews=" + limit;
      q = param(q, "product", list.getAttribute("data-sku"));
      q = param(q, "rating", list.getAttribute("data-rating"));
      q = param(q, "language", list.getAttribute("data-language"));
    }
    var done = false, ctrl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (!done) { if (ctrl) ctrl.abort(); els.forEach(fallback); } }, 8000);
    fetch(base + "/widgets/" + encodeURIComponent(bu) + "/data.json?" + q,
          { credentials: "omit", signal: ctrl ? ctrl.signal : undefined })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) {
        done = true; clearTimeout(timer);
        els.forEach(function (el) {
          try {
            var kind = el.getAttribute("data-reviews-widget");
            if (kind === "badge") fill(el, data.badge);
            else if (kind === "product-stars") fill(el, (data.products || {})[el.getAttribute("data-sku")]);
            else if (kind === "reviews") fill(el, data.reviews);
            else fallback(el);
          } catch (e) { warn("could not render a widget", e); fallback(el); }
        });
      })
      .catch(function (err) { done = true; clearTimeout(timer); warn("reviews are unavailable", err); els.forEach(fallback); });
  }

  /* One request per business unit and locale; a reviews list with its own filters gets its own. */
  function groupKey(el, bu) {
    var key = bu + " " + lang(el);
    if (el.getAttribute("data-reviews-widget") !== "reviews") return key;
    return key + " " + ["data-sku", "data-rating", "data-language"].map(function (a) {
      return el.getAttribute(a) || ""; }).join(" ");
  }

  function run() {
    try {
      if (!window.fetch || !base) { warn("no fetch or unknown service address"); }
      var groups = {}, order = [], found = document.querySelectorAll("[data-reviews-widget]:not([data-reviews-state])");
      if (!found.length) return;
      ensureStyles();
      Array.prototype.forEach.call(found, function (el) {
        el.__rwOwn = /\S/.test(el.textContent || "") || !!el.children.length;
        el.setAttribute("data-reviews-state", "loading");
        var bu = el.getAttribute("data-business-unit") || "", key = groupKey(el, bu);
        if (!bu || !window.fetch || !base) { fallback(el); return; }
        if (!groups[key]) {
          groups[key] = { bu: bu, locale: lang(el), els: [], list: el.getAttribute("data-reviews-widget") === "reviews" };
          order.push(key);
        }
        groups[key].els.push(el);
      });
      merge(groups, order).forEach(function (g) { load(g.bu, g.locale, g.els); });
    } catch (e) { warn("loader failed", e); }
  }

  /* a list's group absorbs the plain group of its unit and locale, so a product page stays one request */
  function merge(groups, order) {
    var out = [], taken = {};
    order.forEach(function (key) {
      var g = groups[key];
      if (!g.list) return;
      var plain = g.bu + " " + g.locale;
      if (groups[plain] && !taken[plain]) { g.els = groups[plain].els.concat(g.els); taken[plain] = true; }
      out.push(g);
    });
    order.forEach(function (key) {
      if (!groups[key].list && !taken[key]) out.push(groups[key]);
    });
    return out;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
