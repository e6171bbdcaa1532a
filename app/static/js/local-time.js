// Shows moments in the viewer's own time zone, next to the creator's.
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  });
  var ownZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.querySelectorAll("time[data-viewer-time]").forEach(function (el) {
    var target = document.getElementById(el.dataset.viewerTime);
    // The viewer's time only when it differs from the creator's, shown already.
    if (target && el.dataset.zone !== ownZone) {
      target.textContent = format.format(new Date(el.getAttribute("datetime")));
      target.parentElement.hidden = false;
    }
  });
  // A new project's time zone starts as the browser's own.
  var zone = document.querySelector("select[data-guess-timezone]");
  if (zone && zone.value === "UTC") {
    var guess = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (guess && zone.querySelector('option[value="' + guess + '"]')) { zone.value = guess; }
  }
})();
