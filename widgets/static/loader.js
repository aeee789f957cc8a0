/* reviews-service loader: finds [data-reviews-widget] elements, makes one data.json request per
   business unit, and fills them. No dependencies, no inline script or style needed, never throws. */
(function () {
  "use strict";
  var FALLBACK = { nl: "Bekijk onze beoordelingen", de: "Unsere Bewertungen lesen", fr: "Lire nos avis", en: "Read our reviews" };
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
    if (el.getAttribute("data-reviews-state") === "ok" || el.children.length) return;
    var span = document.createElement("span");
    span.className = "rw-fallback";
    span.textContent = el.getAttribute("data-fallback") || FALLBACK[lang(el)] || FALLBACK.en;
    el.appendChild(span);
    el.setAttribute("data-reviews-state", "unavailable");
  }

  function fill(el, markup) {
    if (typeof markup !== "string") { fallback(el); return; }
    el.innerHTML = markup; /* the service escapes every review field */
    var theme = el.getAttribute("data-theme");
    var root = el.firstElementChild;
    if (theme && root) root.setAttribute("data-theme", theme);
    el.setAttribute("data-reviews-state", "ok");
  }

  function load(bu, els) {
    var skus = [], limit = 0, product = "", locale = lang(els[0]);
    els.forEach(function (el) {
      var kind = el.getAttribute("data-reviews-widget"), sku = el.getAttribute("data-sku");
      if (kind === "product-stars" && sku && skus.indexOf(sku) < 0) skus.push(sku);
      if (kind === "reviews") {
        limit = Math.max(limit, Math.min(parseInt(el.getAttribute("data-limit"), 10) || 5, 20));
        if (sku && !product) product = sku;
      }
    });
    var q = "locale=" + encodeURIComponent(locale) + "&badge=" + (els.some(function (e) {
      return e.getAttribute("data-reviews-widget") === "badge"; }) ? 1 : 0);
    if (skus.length) q += "&skus=" + skus.map(encodeURIComponent).join(",");
    if (limit) q += "&reviews=" + limit + (product ? "&product=" + encodeURIComponent(product) : "");
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

  function run() {
    try {
      if (!window.fetch || !base) { warn("no fetch or unknown service address"); }
      var groups = {}, found = document.querySelectorAll("[data-reviews-widget]:not([data-reviews-state])");
      if (!found.length) return;
      ensureStyles();
      Array.prototype.forEach.call(found, function (el) {
        el.setAttribute("data-reviews-state", "loading");
        var bu = el.getAttribute("data-business-unit") || "";
        (groups[bu] = groups[bu] || []).push(el);
      });
      Object.keys(groups).forEach(function (bu) {
        if (!bu || !window.fetch || !base) { groups[bu].forEach(fallback); return; }
        load(bu, groups[bu]);
      });
    } catch (e) { warn("loader failed", e); }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
