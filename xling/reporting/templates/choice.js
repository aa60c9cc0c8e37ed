/* The NLI / multiple-choice runs' view (DATA.choice). */

function drawChoice() {
  byId("choice").hidden = true;
}
