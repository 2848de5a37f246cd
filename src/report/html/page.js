// Draws each history's timeline (SVG) from the JSON view embedded beside
// it. Text from the history is only ever set as text (textContent), never
// parsed as markup.
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var LANE = 30, LEFT = 110, TOP = 22, WIDTH = 1100;
  // What a convergence mark says on the bar, beside its colour.
  var MARK_WORDS = { lost: "lost", winner: "won", divergent: "diverged", unexplained: "unexplained", missing: "misses it", "failed-present": "failed, yet present", "out-of-bounds": "out of bounds" };

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) { if (attrs[k] !== undefined) e.setAttribute(k, attrs[k]); }
    if (parent) parent.appendChild(e);
    return e;
  }
  function html(name, attrs, parent, text) {
    var e = document.createElement(name);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, cls) {
    var t = el("text", { x: x, y: y, "class": cls }, parent);
    t.textContent = s;
    return t;
  }
  function defs(svg) {
    var d = el("defs", {}, svg);
    var p = el("pattern", { id: "hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }, d);
    el("rect", { width: 6, height: 6, fill: "#e8e8e8" }, p);
    el("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#888", "stroke-width": 2 }, p);
    var m = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, d);
    el("path", { d: "M0,0 L10,5 L0,10 z", "class": "arrow-head" }, m);
  }

  // Where an op starts and ends on the axis; an open (info) op runs to the end.
  function span(op, axis, end) {
    if (axis === "time") {
      var t1 = op.outcome === "info" || op.t1 === null ? end : op.t1;
      return [op.t0, t1];
    }
    var c = op.outcome === "info" || op.cmp === null ? end : op.cmp;
    return [op.inv, c];
  }

  function describe(view, op) {
    var lines = ["process " + view.lanes[op.lane], op.label + " (" + op.outcome + (op.cmp === null ? ", never completed" : "") + ")"];
    if (op.key !== null) lines.push("key " + view.keys[op.key]);
    if (op.node !== null) lines.push("answered by " + op.node);
    if (op.rank !== null) lines.push("linearized #" + (op.rank + 1) + (op.state !== null ? ", state after: " + op.state : ""));
    if (op.seq !== null) lines.push("sequential order #" + (op.seq + 1));
    if (op.marks.length) lines.push(op.marks.join(", "));
    lines.push(op.t0 !== null ? "time " + op.t0 + (op.t1 !== null ? " to " + op.t1 : "") : "events " + op.inv + (op.cmp !== null ? " to " + op.cmp : ""));
    return lines.join("\n");
  }

  // Draws `ops` (records of `view`) as lanes; returns the svg.
  function draw(view, ops, o) {
    // Room above the lanes for the cycle's arrows, which bow upward.
    var TOP = 22 + (o.arrows ? 24 : 0);
    var laneOf = o.laneOf || function (op) { return op.lane; };
    var laneName = o.laneName || function (l) { return "process " + view.lanes[l]; };
    var lanes = [], seen = {};
    ops.forEach(function (op) { var l = laneOf(op); if (!seen[l]) { seen[l] = true; lanes.push(l); } });
    lanes.sort(function (a, b) { return a - b; });
    var row = {}; lanes.forEach(function (l, i) { row[l] = i; });
    var lo = Infinity, hi = -Infinity;
    ops.forEach(function (op) {
      var s = span(op, o.axis, -Infinity);
      lo = Math.min(lo, s[0]); hi = Math.max(hi, s[0], s[1]);
    });
    // A window's range bounds the axis: ops begun before it are cut at its edge.
    if (o.range) { lo = o.range[0]; hi = Math.max(o.range[1], lo + 1); }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    var end = hi + (hi - lo) * 0.04 + 1;
    var height = TOP + lanes.length * LANE + 10;
    var svg = el("svg", { viewBox: "0 0 " + WIDTH + " " + height, role: "img" });
    defs(svg);
    var x = function (v) { return LEFT + (Math.max(v, lo) - lo) / (end - lo) * (WIDTH - LEFT - 10); };
    (o.faults || []).forEach(function (f) {
      var a = o.axis === "time" ? f.t0 : f.from, b = o.axis === "time" ? f.t1 : f.to;
      if (a === null) return;
      if (b === null || b > end) b = end;
      if (b < lo || a > end) return;
      a = Math.max(a, lo);
      var r = el("rect", { "class": "fault", x: x(a), y: TOP - 8, width: Math.max(2, x(b) - x(a)), height: height - TOP }, svg);
      el("title", {}, r).textContent = f.label;
      text(svg, x(a) + 2, TOP - 10, f.label, "fault-label");
    });
    lanes.forEach(function (l, i) {
      var y = TOP + i * LANE;
      el("line", { "class": "lane", x1: LEFT, x2: WIDTH, y1: y + LANE - 2, y2: y + LANE - 2 }, svg);
      text(svg, 4, y + LANE / 2 + 4, laneName(l), "lane-label");
    });
    var behind = el("g", {}, svg);
    (o.agreements || []).forEach(function (a) {
      if (a.at === null || (a.events ? "event" : "time") !== o.axis || a.at < lo || a.at > end) return;
      el("line", { "class": "agreed", x1: x(a.at), x2: x(a.at), y1: TOP - 8, y2: height }, behind);
      text(behind, x(a.at) + 3, height - 2, a.label, "agreed-label");
    });
    var bars = {};
    ops.forEach(function (op) {
      var s = span(op, o.axis, end);
      var y = TOP + row[laneOf(op)] * LANE + 3;
      var g = el("g", { "class": "op", tabindex: 0, "data-op": op.id }, svg);
      var cls = "bar " + op.outcome + " " + op.marks.join(" ");
      var w = Math.max(3, x(s[1]) - x(s[0]));
      el("rect", { "class": cls, x: x(s[0]), y: y, width: w, height: LANE - 8, rx: 3 }, g);
      var words = (o.showKey && op.key !== null ? view.keys[op.key] + ": " : "") + op.label + (op.node !== null ? " @" + op.node : "");
      if (op.rank !== null && o.ranks) words = "#" + (op.rank + 1) + " " + words;
      if (op.outcome === "fail") words = "fail: " + words;
      if (op.outcome === "info") words = words + " (info)";
      var said = op.marks.map(function (m) { return MARK_WORDS[m]; }).filter(function (w) { return w; });
      if (said.length) words = words + " [" + said.join(", ") + "]";
      text(g, x(s[0]) + 3, y + LANE / 2, words, "op-label");
      if (op.marks.indexOf("failing") >= 0) text(g, x(s[0]) - 10, y + LANE / 2, "\u2717", "marker");
      el("title", {}, g).textContent = describe(view, op);
      g.addEventListener("focus", function () { if (o.stateBox) o.stateBox.textContent = describe(view, op).replace(/\n/g, " \u00b7 "); });
      g.addEventListener("mouseenter", function () { if (o.stateBox) o.stateBox.textContent = describe(view, op).replace(/\n/g, " \u00b7 "); });
      bars[op.id] = { x0: x(s[0]), x1: x(s[0]) + w, y: y + (LANE - 8) / 2, op: op };
    });
    if (o.ranks) linPoints(behind, ops, bars);
    if (o.seq) seqPath(behind, ops, bars);
    if (o.arrows) arrows(svg, o.arrows, bars);
    return svg;
  }

  // The cycle's steps: an arrow from the write that comes first to the one
  // after it, bowed to its left (so two steps between the same writes
  // part), numbered at its middle; the initial value sits at the left edge.
  // The ops that prove a step carry its number too.
  function arrows(svg, steps, bars) {
    var badges = {};
    function badge(g, x, y, n) {
      el("circle", { "class": "cycle-badge", cx: x, cy: y, r: 8 }, g);
      text(g, x, y + 4, String(n), "cycle-number");
    }
    steps.forEach(function (s, i) {
      var a = s.earlier !== null ? bars[s.earlier] : null, b = s.later !== null ? bars[s.later] : null;
      if (!a && !b) return;
      var p = a ? { x: (a.x0 + a.x1) / 2, y: a.y } : { x: LEFT, y: b.y };
      var q = b ? { x: (b.x0 + b.x1) / 2, y: b.y } : { x: LEFT, y: a.y };
      var dx = q.x - p.x, dy = q.y - p.y, len = Math.max(1, Math.sqrt(dx * dx + dy * dy));
      var cx = (p.x + q.x) / 2 - dy / len * 40, cy = (p.y + q.y) / 2 + dx / len * 40;
      var g = el("g", { "class": "cycle-step" }, svg);
      el("path", { "class": "cycle-arrow", d: "M" + p.x + "," + p.y + " Q" + cx + "," + cy + " " + q.x + "," + q.y, "marker-end": "url(#arrow)" }, g);
      badge(g, (p.x + 2 * cx + q.x) / 4, (p.y + 2 * cy + q.y) / 4, i + 1);
      if (!a || !b) text(g, LEFT + 30, (a || b).y - 12, "initial value", "cycle-number");
      s.ops.forEach(function (id) {
        var bar = bars[id];
        if (!bar) return;
        var k = badges[id] = (badges[id] || 0) + 1;
        badge(g, bar.x1 - 10 - 18 * (k - 1), bar.y, i + 1);
      });
    });
  }

  // Linearization points: each op's point is the latest of its start and
  // the previous op's point, within its bar; joined per key in order.
  function linPoints(svg, ops, bars) {
    var byKey = {};
    ops.forEach(function (op) { if (op.rank !== null) (byKey[op.key] = byKey[op.key] || []).push(op); });
    Object.keys(byKey).forEach(function (k) {
      var list = byKey[k].sort(function (a, b) { return a.rank - b.rank; });
      var prev = -Infinity, pts = [];
      list.forEach(function (op) {
        var b = bars[op.id];
        var px = Math.min(Math.max(b.x0 + 2, prev), b.x1 - 2);
        prev = px;
        pts.push(px + "," + b.y);
        el("circle", { "class": "lin-point", cx: px, cy: b.y, r: 3 }, svg.parentNode);
      });
      if (pts.length > 1) el("polyline", { "class": "lin-path", points: pts.join(" ") }, svg);
    });
  }

  function seqPath(svg, ops, bars) {
    var list = ops.filter(function (op) { return op.seq !== null; }).sort(function (a, b) { return a.seq - b.seq; });
    var pts = list.map(function (op) { var b = bars[op.id]; return ((b.x0 + b.x1) / 2) + "," + b.y; });
    if (pts.length > 1) el("polyline", { "class": "seq-path", points: pts.join(" ") }, svg);
  }

  function overview(view, holder, choose) {
    var ov = view.overview, n = ov.counts.length, H = 48;
    var svg = el("svg", { viewBox: "0 0 " + WIDTH + " " + (H + 14), "class": "overview", role: "img" }, holder);
    defs(svg);
    var max = 1;
    ov.counts.forEach(function (c) { max = Math.max(max, c[0] + c[1] + c[2]); });
    var bw = WIDTH / n, x = function (e) { return e / view.events * WIDTH; };
    view.faults.forEach(function (f) {
      var b = f.to === null ? view.events : f.to;
      el("rect", { "class": "fault", x: x(f.from), y: 0, width: Math.max(1, x(b) - x(f.from)), height: H }, svg);
    });
    ov.counts.forEach(function (c, i) {
      var y = H, parts = [[c[0], "#7fbf8e"], [c[1], "#bbb"], [c[2], "url(#hatch)"]];
      parts.forEach(function (p) {
        var h = p[0] / max * (H - 4);
        if (h > 0) { y -= h; el("rect", { x: i * bw, y: y, width: Math.max(bw, 1), height: h, fill: p[1] }, svg); }
      });
    });
    view.windows.forEach(function (w, i) {
      var r = el("rect", { "class": "window-range", x: x(w.from), y: 0, width: Math.max(3, x(w.to) - x(w.from)), height: H }, svg);
      el("title", {}, r).textContent = w.title;
      r.addEventListener("click", function () { choose(i); });
      if (w.focus !== null) el("rect", { "class": "marker", x: x(w.from + (w.to - w.from) / 2) - 1, y: H, width: 3, height: 10 }, svg);
    });
    text(svg, 2, H + 12, "the whole history: " + view.operations + " operations over " + view.events + " events (ok, fail, info hatched; faults shaded; click a window)", "");
  }

  function select(parent, label, options, onchange) {
    var l = html("label", {}, parent, label + " ");
    var s = html("select", {}, l);
    options.forEach(function (o) { html("option", { value: o[0] }, s, o[1]); });
    s.addEventListener("change", function () { onchange(s.value); });
    return s;
  }

  function timeline(section, view) {
    var holder = section.querySelector(".timeline");
    var state = { axis: view.timed ? "time" : "event", key: "all", win: 0, seq: true, lanes: "process" };
    var nodes = [];
    view.ops.forEach(function (op) { if (op.node !== null && nodes.indexOf(op.node) < 0) nodes.push(op.node); });
    nodes.sort();
    var controls = html("div", { "class": "controls" }, holder);
    if (view.overview) overview(view, holder, function (i) { state.win = i; winSel.value = String(i); redraw(); });
    var area = html("div", { "class": "timeline-area" }, holder);
    var stateBox = html("div", { "class": "state-box", "aria-live": "polite" }, holder, "Hover or focus an operation for its details.");
    if (view.timed) select(controls, "axis", [["time", "by time"], ["event", "by event order"]], function (v) { state.axis = v; redraw(); });
    else html("span", {}, controls, "ops carry no time: drawn by event order");
    if (view.keys.length > 1) select(controls, "key", [["all", "all keys"]].concat(view.keys.map(function (k, i) { return [String(i), k]; })), function (v) { state.key = v; redraw(); });
    if (nodes.length) select(controls, "lanes", [["process", "one per process"], ["node", "one per node (replica)"]], function (v) { state.lanes = v; redraw(); });
    var winSel = select(controls, "window", view.windows.map(function (w, i) { return [String(i), w.title + " (events " + w.from + "\u2013" + w.to + ")"]; }), function (v) { state.win = Number(v); redraw(); });
    if (view.windows.length < 2) winSel.parentNode.style.display = "none";
    if (view.ops.some(function (op) { return op.seq !== null; })) {
      var l = html("label", {}, controls);
      var c = html("input", { type: "checkbox" }, l);
      c.checked = true;
      l.appendChild(document.createTextNode(" sequential order path"));
      c.addEventListener("change", function () { state.seq = c.checked; redraw(); });
    }
    var note = html("p", { "class": "note" }, holder);
    function redraw() {
      var w = view.windows[state.win];
      var ops = w.ops.map(function (i) { return view.ops[i]; }).filter(function (op) {
        return state.key === "all" || String(op.key) === state.key;
      });
      area.textContent = "";
      var range = state.axis === "event" ? [w.from, w.to] : (w.t_from !== null && w.t_to !== null ? [w.t_from, w.t_to] : null);
      var o = { axis: state.axis, faults: view.faults, range: range, ranks: true, seq: state.seq, stateBox: stateBox, showKey: state.key === "all" && view.keys.length > 1 };
      o.agreements = view.agreements.filter(function (a) {
        return state.key === "all" ? view.keys.length < 2 : a.key === view.keys[Number(state.key)];
      });
      if (state.lanes === "node") {
        o.laneOf = function (op) { return op.node === null ? nodes.length : nodes.indexOf(op.node); };
        o.laneName = function (l) { return l < nodes.length ? "node " + nodes[l] : "no node"; };
      }
      area.appendChild(draw(view, ops, o));
      var notes = o.agreements.filter(function (a) { return a.at === null; }).map(function (a) {
        return (a.key !== null ? "key " + a.key + ": " : "") + a.label;
      });
      if (w.open_left_out) notes.push(w.open_left_out + " indeterminate operations invoked earlier and still open are not drawn");
      if (view.windows_left_out) notes.push(view.windows_left_out + " more failing operations have no window of their own (see the text report)");
      note.textContent = notes.join("; ");
    }
    redraw();
    section.querySelectorAll("a.op-ref").forEach(function (a) {
      a.addEventListener("click", function (e) {
        e.preventDefault();
        var id = a.getAttribute("data-op");
        var found = view.windows.findIndex(function (w) { return w.ops.some(function (i) { return String(view.ops[i].id) === id; }); });
        if (found >= 0 && found !== state.win) { state.win = found; winSel.value = String(found); }
        state.key = "all";
        redraw();
        var g = area.querySelector('g.op[data-op="' + id + '"]');
        if (g) { g.querySelector(".bar").classList.add("flash"); g.focus(); }
      });
    });
  }

  // The ops `ids` of `view` as their own small timeline: event order,
  // without gaps; `marks(id)` gives each op's marks.
  function compact(view, ids, marks) {
    var byId = {};
    view.ops.forEach(function (op) { byId[op.id] = op; });
    var evs = [];
    ids.forEach(function (id) { var op = byId[id]; evs.push(op.inv); if (op.cmp !== null) evs.push(op.cmp); });
    evs.sort(function (a, b) { return a - b; });
    var pos = {}; evs.forEach(function (e, i) { pos[e] = i; });
    return ids.map(function (id) {
      var op = byId[id], c = {};
      for (var k in op) c[k] = op[k];
      c.inv = pos[op.inv]; c.cmp = op.cmp === null ? null : pos[op.cmp];
      c.marks = marks(id);
      c.rank = null; c.seq = null;
      return c;
    });
  }

  function minimals(section, view) {
    section.querySelectorAll("figure.minimal").forEach(function (fig) {
      var m = view.minimals[Number(fig.getAttribute("data-minimal"))];
      var ops = compact(view, m.ops, function (id) { return id === m.failing ? ["failing"] : []; });
      fig.appendChild(draw(view, ops, { axis: "event", faults: [], ranks: false, seq: false }));
    });
  }

  function cycles(section, view) {
    section.querySelectorAll("figure.cycle").forEach(function (fig) {
      var c = view.cycles[Number(fig.getAttribute("data-cycle"))];
      var proof = {};
      c.steps.forEach(function (s) { s.ops.forEach(function (id) { proof[id] = true; }); });
      var ops = compact(view, c.ops, function (id) { return proof[id] ? ["proof"] : []; });
      fig.appendChild(draw(view, ops, { axis: "event", faults: [], ranks: false, seq: false, arrows: c.steps }));
    });
  }

  var errors = 0;
  document.querySelectorAll("section.file").forEach(function (section) {
    var data = section.querySelector("script.view");
    if (!data) return;
    try {
      var view = JSON.parse(data.textContent);
      timeline(section, view);
      cycles(section, view);
      minimals(section, view);
    } catch (e) {
      errors++;
      html("div", { "class": "script-error" }, section, "script error: " + e.message);
    }
  });
  if (!errors) document.body.setAttribute("data-rendered", "ok");
})();
