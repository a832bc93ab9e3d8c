/* Hortense chat widget: starts rasa-webchat 1.0.1 (window.WebChat) with the page's settings.
 *
 * - Identity: rasa-webchat sends nothing at socket.io connect but its URL, so the portal JWT travels in the
 *   socket URL's query string (`?token=`), which the website channel reads at connect. It is also kept in
 *   `customData.token` (sent with every message) for a channel that accepts a refreshed token there.
 * - Conversation: rasa-webchat keeps it in sessionStorage; the channel picks the conversation id from the
 *   token, and a conversation stored in this tab for somebody else is dropped before the widget starts.
 * - Expiry: a fresh token is fetched from /token shortly before the old one expires (and when the channel
 *   says `token_expired` or refuses the connection), then the socket reconnects with it.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "chat_session"; // rasa-webchat's own key
  var REFRESH_MARGIN_S = 60;
  var MAX_FAILED_REFRESHES = 3;

  var configElement = document.getElementById("hortense-chat-config");
  var mount = document.getElementById("hortense-chat");
  if (!configElement || !mount) return;
  var config = JSON.parse(configElement.textContent);
  if (!window.WebChat || typeof window.WebChat.default !== "function") {
    console.error("Widget Hortense indisponible : rasa-webchat n'est pas chargé.");
    return;
  }

  function dropForeignConversation() {
    try {
      var stored = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "null");
      var storedId = stored && stored.session_id;
      if (!storedId) return;
      var mine = config.conversationId ? storedId === config.conversationId : storedId.indexOf("web-") !== 0;
      if (!mine) window.sessionStorage.removeItem(STORAGE_KEY);
    } catch (e) {
      window.sessionStorage.removeItem(STORAGE_KEY);
    }
  }

  var token = config.token;
  var expiresAt = config.expiresAt;
  var customData = { language: "fr" };
  if (token) customData.token = token;
  var socket = null;
  var refreshTimer = null;
  var failedRefreshes = 0;

  function socketUrl() {
    return token ? config.rasaUrl + "/?token=" + encodeURIComponent(token) : config.rasaUrl;
  }

  function scheduleRefresh() {
    if (!token || !expiresAt) return;
    window.clearTimeout(refreshTimer);
    // A minute before expiry, or a fifth of the token's life when it is short.
    var remaining = expiresAt - Date.now() / 1000;
    var margin = Math.min(REFRESH_MARGIN_S, Math.max(5, remaining / 5));
    var delay = Math.max(5000, (remaining - margin) * 1000);
    refreshTimer = window.setTimeout(function () { renew(); }, delay);
  }

  function renew() {
    if (!config.tokenUrl || !config.conversationId) return;
    window.fetch(config.tokenUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) {
          // The customer-space session itself is over: the page shows the log-in again.
          window.location.reload();
          throw new Error("session expired");
        }
        if (!response.ok) throw new Error("token refresh failed: " + response.status);
        return response.json();
      })
      .then(function (data) {
        failedRefreshes = 0;
        token = data.token;
        expiresAt = data.expires_at;
        customData.token = token; // same object rasa-webchat sends with every message
        scheduleRefresh();
        reconnect();
      })
      .catch(function (error) {
        failedRefreshes += 1;
        console.warn("Hortense : renouvellement du jeton impossible", error);
        if (failedRefreshes < MAX_FAILED_REFRESHES) {
          window.setTimeout(renew, 5000 * failedRefreshes);
        }
      });
  }

  function reconnect() {
    if (!socket || !socket.io) return;
    socket.io.uri = socketUrl(); // the manager reopens its transport with this URL
    socket.disconnect();
    socket.connect();
  }

  // Menu entry "Recommencer": types "on recommence" into the widget and sends it, like the customer would.
  // It goes through the same channel, guard and NLU as any message (no special payload, nothing trusted).
  var RESTART_TEXT = "on recommence";

  function sendAsCustomer(text) {
    var input = mount.querySelector(".rw-new-message");
    var send = mount.querySelector(".rw-send");
    if (!input || !send) return false;
    var setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(input), "value");
    if (!setter || !setter.set) return false;
    setter.set.call(input, text);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    window.setTimeout(function () { send.click(); }, 0);
    return true;
  }

  function addRestartEntry() {
    var header = mount.querySelector(".rw-header");
    if (!header || header.querySelector(".hortense-restart")) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "hortense-restart";
    button.textContent = "Recommencer";
    button.title = "Recommencer la conversation";
    button.setAttribute("aria-label", "Recommencer la conversation");
    button.style.cssText = "margin-left:auto;margin-right:8px;background:transparent;color:#FFFFFF;" +
      "border:1px solid #FFFFFF;border-radius:4px;padding:2px 8px;font-size:12px;cursor:pointer;";
    button.addEventListener("click", function () { sendAsCustomer(RESTART_TEXT); });
    header.appendChild(button);
  }

  if (window.MutationObserver) {
    new MutationObserver(addRestartEntry).observe(mount, { childList: true, subtree: true });
  }

  // Privacy notice (GDPR/CNIL): above the messages, so it is read before the first one — what is stored, for
  // how long, and the policy page. Its text comes from the server (the retention period is a setting).
  function addPrivacyNotice() {
    var messages = mount.querySelector(".rw-messages-container");
    if (!config.privacyNotice || !messages || mount.querySelector(".hortense-privacy-notice")) return;
    var notice = document.createElement("p");
    notice.className = "hortense-privacy-notice";
    notice.setAttribute("role", "note");
    notice.style.cssText = "margin:0;padding:6px 10px;font-size:12px;line-height:1.35;background:#F1F7F3;" +
      "color:#1D2B24;border-bottom:1px solid #D9E2DC;";
    notice.appendChild(document.createTextNode(config.privacyNotice + " "));
    var link = document.createElement("a");
    link.href = config.privacyUrl || "/confidentialite";
    link.textContent = "En savoir plus";
    link.style.color = "#1E7B4A";
    notice.appendChild(link);
    messages.parentNode.insertBefore(notice, messages);
  }

  if (window.MutationObserver) {
    new MutationObserver(addPrivacyNotice).observe(mount, { childList: true, subtree: true });
  }

  dropForeignConversation();
  scheduleRefresh();

  window.WebChat.default({
    socketUrl: socketUrl(),
    socketPath: config.socketPath,
    customData: customData,
    initPayload: config.initPayload,
    title: config.title,
    subtitle: config.subtitle,
    inputTextFieldHint: "Écrivez votre message…",
    connectingText: "Connexion à Hortense…",
    profileAvatar: "/static/hortense-avatar.svg",
    openLauncherImage: "/static/chat-launcher.svg", // white on the launcher's green: 5.3:1 (WCAG AA)
    showFullScreenButton: false,
    showCloseButton: true,
    hideWhenNotConnected: false,
    displayUnreadCount: true,
    params: { storage: "session" },
    mainColor: "#1E7B4A",
    userBackgroundColor: "#1E7B4A",
    userTextColor: "#FFFFFF",
    customMessageDelay: function (message) {
      return Math.min(1200, Math.max(300, 8 * (message || "").length));
    },
    onSocketEvent: {
      connect: function () {
        socket = this; // socket.io calls listeners on the socket itself
        failedRefreshes = 0;
      },
      token_expired: function () { renew(); },
      auth_error: function () { renew(); },
      connect_error: function (error) {
        // Network errors are retried by socket.io itself; a refused token needs a new one.
        socket = socket || this;
        var refused = error && /rejected|unauthori[sz]ed|expired/i.test(String(error.message || ""));
        if (token && refused && failedRefreshes < MAX_FAILED_REFRESHES) renew();
      }
    }
  }, mount);

  // rasa-webchat's buttons have no French names (the launcher none at all, the others English image
  // alternatives): name them, and keep the launcher's name and state in step with the conversation.
  var NAMES = [
    [".rw-close-button", "Fermer la conversation"],
    [".rw-send", "Envoyer le message"],
    [".rw-new-message", "Votre message à Hortense"]
  ];

  function nameControls() {
    var launcher = mount.querySelector(".rw-launcher");
    if (launcher) {
      var open = Boolean(mount.querySelector(".rw-conversation-container"));
      var label = open ? "Fermer la conversation avec Hortense" : "Ouvrir la conversation avec Hortense";
      if (launcher.getAttribute("aria-label") !== label) launcher.setAttribute("aria-label", label);
      if (launcher.getAttribute("aria-expanded") !== String(open)) launcher.setAttribute("aria-expanded", String(open));
    }
    NAMES.forEach(function (pair) {
      var element = mount.querySelector(pair[0]);
      if (element && element.getAttribute("aria-label") !== pair[1]) element.setAttribute("aria-label", pair[1]);
    });
  }

  // Screen readers and the keyboard (WCAG 2.1 AA), on the widget's own DOM once it renders:
  // - the conversation is a log whose new messages are read out politely (aria-live), and can be scrolled with
  //   the keyboard (it takes the focus);
  // - rasa-webchat's reply buttons are plain divs: they become buttons reachable with Tab and pressed with
  //   Enter or Space; once one is chosen (the replies disappear) the focus goes back to the message input;
  // - the avatars are decorative; the "Connexion à Hortense…" bar is a status message;
  // - Escape closes the widget and the focus returns to the launcher (also after the close button on a phone).
  function accessibleWidget() {
    var conversation = mount.querySelector(".rw-conversation-container");
    if (conversation && !conversation.hasAttribute("role")) {
      conversation.setAttribute("role", "region");
      conversation.setAttribute("aria-label", "Conversation avec Hortense");
    }
    var log = mount.querySelector(".rw-messages-container");
    if (log && log.getAttribute("role") !== "log") {
      log.setAttribute("role", "log");
      log.setAttribute("aria-live", "polite");
      log.setAttribute("aria-relevant", "additions");
      log.setAttribute("aria-label", "Messages");
      log.setAttribute("tabindex", "0");
    }
    var loading = mount.querySelector(".rw-loading");
    if (loading && loading.getAttribute("role") !== "status") loading.setAttribute("role", "status");
    Array.prototype.forEach.call(mount.querySelectorAll("img.rw-avatar"), function (img) {
      if (img.getAttribute("alt") !== "") img.setAttribute("alt", "");
    });
    Array.prototype.forEach.call(mount.querySelectorAll("div.rw-reply, span.rw-reply"), function (reply) {
      if (reply.getAttribute("role") !== "button") reply.setAttribute("role", "button");
      if (reply.getAttribute("tabindex") !== "0") reply.setAttribute("tabindex", "0");
    });
  }

  function focusInput() {
    window.setTimeout(function () {
      var input = mount.querySelector(".rw-new-message");
      if (input && !input.disabled) input.focus();
    }, 50);
  }

  function focusLauncher() {
    window.setTimeout(function () {
      var launcher = mount.querySelector(".rw-launcher");
      if (launcher) launcher.focus();
    }, 50);
  }

  mount.addEventListener("keydown", function (event) {
    var reply = event.target.closest && event.target.closest("div.rw-reply, span.rw-reply");
    if (reply && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault(); // Space would scroll the conversation
      reply.click();
      return;
    }
    if (event.key === "Escape" && event.target.closest && event.target.closest(".rw-conversation-container")) {
      var close = mount.querySelector(".rw-close-button");
      var launcher = mount.querySelector(".rw-launcher");
      if (close && close.offsetParent !== null) close.click();
      else if (launcher) launcher.click();
      focusLauncher();
    }
  });

  mount.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    if (event.target.closest("div.rw-reply, span.rw-reply")) focusInput();
    else if (event.target.closest(".rw-close-button")) focusLauncher();
  });

  function accessible() {
    nameControls();
    accessibleWidget();
  }

  accessible();
  new MutationObserver(accessible).observe(mount, { childList: true, subtree: true });
})();
