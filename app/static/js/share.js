// The share box's "Copy link" button (without JavaScript the link stays in its readonly field,
// to copy by hand). What happened is said in the box's live region, in the page's language.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copyTarget);
    var status = document.getElementById(button.dataset.copyStatus);
    if (!field || !status) { return; }
    button.hidden = false;
    field.addEventListener("focus", function () { field.select(); });
    function say(text) {
      status.textContent = "";  // emptied first, so a second copy is announced again
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
    function byHand() {
      field.focus();
      field.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
      say(copied ? status.dataset.copied : status.dataset.failed);
    }
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () {
          say(status.dataset.copied);
        }, byHand);
      } else {
        byHand();
      }
    });
  });
})();
