/* The page of `xling figures -o DIR` (DIR/index.html): each figure drawn (DATA.figures: its PNG
   as a data URI) with its title and the table it comes from beside it. Every text goes in as text.
   The PNGs are decoded here and painted on canvases: even a data: URI in an <img> counts as a
   request in the browser's network log, and this page makes none. */

var PNG_PREFIX = "data:image/png;base64,";
var PNG = /^data:image\/png;base64,[A-Za-z0-9+\/]+=*$/;

function pngBytes(uri) {
  var text = atob(uri.slice(PNG_PREFIX.length)), bytes = new Uint8Array(text.length);
  for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function pngSize(bytes) {   // width and height from the PNG's IHDR chunk, or null
  var signature = [137, 80, 78, 71, 13, 10, 26, 10];
  if (bytes.length < 24 || signature.some(function (b, i) { return bytes[i] !== b; })) return null;
  var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  var width = view.getUint32(16), height = view.getUint32(20);
  return width && height ? { width: width, height: height } : null;
}

// A canvas of the figure's size at once (the page's layout is final when the script ends); the
// picture is decoded and painted when the browser has it (body[data-painted] once all are).
function paint(picture, figure) {
  var missing = function () {
    picture.insertBefore(el("p", { cls: "warning", text: "This figure could not be shown here; see " + figure.stem + ".png." }),
      picture.firstChild);
  };
  var bytes = PNG.test(figure.png) ? pngBytes(figure.png) : null;
  var size = bytes && pngSize(bytes);
  if (!size) { missing(); return Promise.resolve(); }
  var canvas = el("canvas", { width: size.width, height: size.height, role: "img", "aria-label": figure.title,
    "data-stem": figure.stem });
  picture.insertBefore(canvas, picture.firstChild);
  return createImageBitmap(new Blob([bytes], { type: "image/png" })).then(function (bitmap) {
    canvas.getContext("2d").drawImage(bitmap, 0, 0);
    canvas.setAttribute("data-painted", "");
  }, function () { canvas.remove(); missing(); });
}

function figureTable(table, title) {
  var head = el("tr", null, table.header.map(function (h, i) { return el("th", { cls: i ? "num" : null, text: h }); }));
  var rows = table.rows.map(function (row) {
    return el("tr", null, row.map(function (c, i) {
      if (!i) return el("th", { text: c });
      return el("td", { cls: c === "" ? "cell empty" : "cell", text: c });
    }));
  });
  var box = el("div", { cls: "figure-table" },
    el("table", null, table.title !== title ? el("caption", { text: table.title }) : null, el("thead", null, head),
      el("tbody", null, rows)));
  table.notes.forEach(function (n) { box.appendChild(el("p", { cls: "note", text: n })); });
  return box;
}

function drawFigures() {
  var main = byId("main"), painted = [];
  main.appendChild(el("p", { cls: "note", text: DATA.runs.length
    ? "With your runs: " + DATA.runs.join(", ") + "."
    : "The report's tables as printed; add your runs with xling figures --runs RUN ..." }));
  var contents = el("ol", { cls: "contents" });
  main.appendChild(contents);
  DATA.figures.forEach(function (figure, k) {
    var id = "figure-" + k;
    contents.appendChild(el("li", null, el("a", { href: "#" + id, text: figure.title })));
    var row = el("div", { cls: "figure-row" });
    var picture = el("figure", null, el("figcaption", { text: figure.stem + ".png, " + figure.stem + ".pdf" }));
    painted.push(paint(picture, figure));
    row.appendChild(picture);
    if (figure.table) row.appendChild(figureTable(figure.table, figure.title));
    main.appendChild(el("section", { id: id, cls: "figure-section", "data-stem": figure.stem },
      el("h2", { text: figure.title }), row));
  });
  byId("nav").appendChild(el("a", { href: "#main", text: DATA.figures.length + " figures" }));
  return Promise.all(painted);
}

byId("footer").textContent = "Made by xling " + DATA.xling + " (xling figures). Everything on this page is in this one file.";
drawFigures().then(function () { document.body.setAttribute("data-painted", String(performance.now())); });
document.body.setAttribute("data-ready", String(performance.now()));
