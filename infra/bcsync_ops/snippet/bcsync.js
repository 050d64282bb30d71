/* bcsync onsite tracking: Active on Site and Viewed Product for known browsers only.
   No dependencies; never blocks the page; posts text/plain so no CORS preflight is needed. */
(function () {
  "use strict";
  var config = { endpoint: "__ENDPOINT__", store: "__STORE__", clientId: "__CLIENT_ID__" };
  var cookieName = "_bcsync_v";
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
  function track() {
    var token = clicked() || cookie();
    customerJwt().then(function (jwt) {
      if (!token && !jwt) return; // an anonymous visitor: nothing leaves the page
      var known = { token: token, customer_jwt: jwt, url: location.href };
      var product = productId();
      var first = send(Object.assign({ metric: "Active on Site" }, known));
      if (product) first.then(function () {
        known.token = cookie() || token;
        send(Object.assign({ metric: "Viewed Product", product_id: product }, known));
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", track);
  else setTimeout(track, 0);
})();
