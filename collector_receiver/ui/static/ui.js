// Times are written in UTC; hovering one shows it in the reader's local time as well.
"use strict";
document.querySelectorAll("time[datetime]").forEach(function (element) {
  var moment = new Date(element.getAttribute("datetime"));
  if (!isNaN(moment.getTime())) {
    element.title = moment.toLocaleString() + " (local time)";
  }
});
