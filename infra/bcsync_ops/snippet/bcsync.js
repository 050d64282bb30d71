/* bcsync onsite tracking: Active on Site and Viewed Product for known browsers only.
   No dependencies; never blocks the page; posts text/plain so no CORS preflight is needed. */
(function () {
  "use strict";
  var config = { endpoint: "__ENDPOINT__", store: "__STORE__", clientId: "__CLIENT_ID__", keepAnonymous: false };
  var cookieName = "_bcsync_v";
  var keptKey = "bcsync_views", keptDays = 14, claimKey = "bcsync_claim";
  function kept() {
    try { return JSON.parse(localStorage.getItem(keptKey) || "[]"); } catch (e) { return []; }
  }
  function keepView(product) { // an anonymous visitor's view, for when they become known (opt-in)
    var fresh = kept().filter(function (v) { return Date.now() - v.at < keptDays * 864e5; });
    fresh.push({ product_id: product, url: location.origin + location.pathname, at: Date.now() });
    try { localStorage.setItem(keptKey, JSON.stringify(fresh.slice(-50))); } catch (e) {}
  }
  function cookie() {
    var found = document.cookie.match(new RegExp("(?:^|; )" + cookieName + "=([^;]*)"));
    return found ? decodeURIComponent(found[1]) : null;
  }
  function keep(visitor) {
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = cookieName + "=" + encodeURIComponent(visitor) + "; Max-Age=34128000; Path=/; SameSite=Lax" + secure;
  }
  function clicked() {
    var match = location.search.match(/[?&]_bc=([^&#]+)/);
    return match ? decodeURIComponent(match[1]) : null;
  }
  function productId() {
    if (window.bcsyncProductId) return Number(window.bcsyncProductId);
    var field = document.querySelector('input[name="product_id"], [data-product-id]');
    if (!field) return null;
    var value = Number(field.value || field.getAttribute("data-product-id"));
    return value > 0 ? value : null;
  }
  function send(body) {
    var url = config.endpoint + "/track?store=" + encodeURIComponent(config.store);
    var text = JSON.stringify(body);
    if (window.fetch) {
      return fetch(url, { method: "POST", body: text, keepalive: true, mode: "cors", credentials: "omit",
                          headers: { "Content-Type": "text/plain" } })
        .then(function (response) { return response.ok ? response.json() : {}; })
        .then(function (answer) { if (answer && answer.visitor) keep(answer.visitor); })
        .catch(function () {});
    }
    if (navigator.sendBeacon) navigator.sendBeacon(url, new Blob([text], { type: "text/plain" }));
    return Promise.resolve();
  }
  function customerJwt() {
    if (!config.clientId || !window.fetch) return Promise.resolve(null);
    return fetch("/customer/current.jwt?app_client_id=" + encodeURIComponent(config.clientId), { credentials: "same-origin" })
      .then(function (response) { return response.status === 200 ? response.text() : null; })
      .catch(function () { return null; });
  }
  function newClaim() { // 24 random bytes, base64url: the secret a newsletter sign-up is claimed by
    var bytes = new Uint8Array(24);
    crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, "-").replace(/\//g, "_");
  }
  function pendingClaim() {
    try {
      var held = JSON.parse(localStorage.getItem(claimKey) || "null");
      return held && Date.now() - held.at < 864e5 ? held.id : null;
    } catch (e) { return null; }
  }
  function signedUp(event) { // a newsletter form (BigCommerce's nl_email, or marked data-bcsync-email)
    var form = event.target, field = form && form.querySelector && form.querySelector('input[name="nl_email"], [data-bcsync-email]');
    if (!field || !field.value || cookie() || !window.crypto || !crypto.getRandomValues) return;
    var claim = newClaim();
    try { localStorage.setItem(claimKey, JSON.stringify({ id: claim, at: Date.now() })); } catch (e) { return; }
    send({ metric: "Active on Site", claim: claim, signup_email: field.value, url: location.href });
  }
  function track() {
    var token = clicked() || cookie();
    customerJwt().then(function (jwt) {
      var claim = token || jwt ? null : pendingClaim();
      if (!token && !jwt && !claim) return keepAnonymousView(); // nothing leaves the page
      var known = { token: token, customer_jwt: jwt, claim: claim, url: location.href };
      var product = productId();
      send(Object.assign({ metric: "Active on Site" }, known)).then(function () {
        known.token = cookie() || token;
        if (claim) { // a sign-up: known once the subscriber webhook has linked it
          if (!known.token) return keepAnonymousView();
          try { localStorage.removeItem(claimKey); } catch (e) {}
          known.claim = null;
        }
        if (product) send(Object.assign({ metric: "Viewed Product", product_id: product }, known));
        var views = kept();
        if (views.length) {
          try { localStorage.removeItem(keptKey); } catch (e) {}
          views.forEach(function (v) {
            send(Object.assign({}, known, { metric: "Viewed Product", product_id: v.product_id, url: v.url, viewed_at: v.at }));
          });
        }
      });
    });
  }
  function keepAnonymousView() {
    if (config.keepAnonymous && productId()) keepView(productId());
  }
  document.addEventListener("submit", signedUp, true);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", track);
  else setTimeout(track, 0);
})();
