// Progressive enhancement only: every page works without it.
document.documentElement.classList.add("js");
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.classList && el.classList.contains("js-autosubmit") && el.form) el.form.submit();
});
