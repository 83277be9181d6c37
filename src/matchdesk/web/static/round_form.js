/* The "Build the draft" form on /rounds: the start date and the tiers follow the cadence
   (a weekly round starts on a Monday, a monthly one on the 1st, and each tier is matched
   at one cadence only). */
(function () {
  "use strict";
  function start() {
    const cadence = document.getElementById("cadence");
    const begin = document.getElementById("start");
    const tier = document.getElementById("tier");
    if (!cadence || !begin || !tier) return;
    cadence.addEventListener("change", () => {
      begin.value = cadence.selectedOptions[0].dataset.start;
      for (const option of tier.options) {
        const other = option.dataset.cadence && option.dataset.cadence !== cadence.value;
        option.hidden = option.disabled = Boolean(other);
      }
      if (tier.selectedOptions[0].disabled) tier.value = "";
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
