// The printable page's two buttons: print it, or go back to where it was opened from.
document.addEventListener("click", function (event) {
  var target = event.target.closest("[data-print], [data-back]");
  if (!target) return;
  if (target.hasAttribute("data-print")) window.print();
  else window.history.back();
});
