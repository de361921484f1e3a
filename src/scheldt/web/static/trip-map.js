// The trip page's map: an offline basemap (Natural Earth land and borders from the world-atlas
// package, served by this server) with the route's ports and the vessel's AIS track.
// No tile server: nothing is loaded from the internet.
(function () {
  "use strict";
  var element = document.getElementById("map");
  var source = document.getElementById("map-data");
  if (!element || !source || !window.L) { return; }
  var data = JSON.parse(source.textContent);
  var map = L.map(element, { worldCopyJump: false, minZoom: 1, maxZoom: 10, zoomSnap: 0.25 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Basemap: Natural Earth (public domain)");
  map.createPane("basemap").style.zIndex = 250;

  // the track's longitudes shifted by whole turns so that no step between two fixes exceeds 180
  // degrees (fixes are hours apart): a Pacific crossing is drawn across the Pacific (a maritime
  // review's track from 140E to 160W ran back west round the world); each port of the route is
  // then put on the turn nearest the track (ports are far apart: a route from New York to Shanghai
  // by Suez is not the shorter way round, as a regression review found)
  function unwrap(points) {
    var previous = null;
    return points.map(function (p) {
      var lon = p[1];
      if (previous !== null) {
        while (lon - previous > 180) { lon -= 360; }
        while (lon - previous < -180) { lon += 360; }
      }
      previous = lon;
      return [p[0], lon].concat(p.slice(2));
    });
  }
  // a port's longitude on the turn nearest the track, and how far (degrees of longitude) it is
  function nearTrack(point, track) {
    var best = point[1];
    var gap = Infinity;
    [-360, 0, 360].forEach(function (turn) {
      var lon = point[1] + turn;
      track.forEach(function (q) {
        if (Math.abs(q[1] - lon) < gap) { gap = Math.abs(q[1] - lon); best = lon; }
      });
    });
    return { at: [point[0], best], gap: gap };
  }
  // the turn of ``lon`` nearest ``from`` (the shorter way between two ports)
  function nearest(lon, from) {
    while (lon - from > 180) { lon -= 360; }
    while (lon - from < -180) { lon += 360; }
    return lon;
  }
  // ports within TRACK_NEAR degrees of longitude of the track are put on its turn; the others the
  // shorter way from the port placed before them (after them, for the first ones): a workbench
  // review's Busan to Manzanillo leg, sailed before the AIS track began (the Atlantic only),
  // was drawn west across Asia, Africa and the Atlantic
  var TRACK_NEAR = 15;
  function placed(route, track) {
    var out = route.map(function (p) { var n = nearTrack(p, track); return n.gap <= TRACK_NEAR ? n.at : null; });
    var first = out.findIndex(function (p) { return p !== null; });
    if (first < 0) { return unwrap(route); }
    for (var i = first - 1; i >= 0; i--) { out[i] = [route[i][0], nearest(route[i][1], out[i + 1][1])]; }
    for (var j = first + 1; j < out.length; j++) {
      if (out[j] === null) { out[j] = [route[j][0], nearest(route[j][1], out[j - 1][1])]; }
    }
    return out;
  }

  var bounds = L.latLngBounds([]);
  var track = unwrap(data.track.map(function (p) { return [p[0], p[1]]; }));
  // without a track, the route goes the shorter way between ports (a regression review's Shanghai
  // to Balboa, with no AIS, was drawn west across Asia, Africa and the Atlantic)
  var route = data.route.map(function (s) { return [s.lat, s.lon]; });
  route = track.length > 0 ? placed(route, track) : unwrap(route);
  if (route.length > 1) {
    L.polyline(route, { className: "route-line", color: "#b4233b", weight: 2.5, dashArray: "6 5" }).addTo(map);
  }
  data.route.forEach(function (s, i) {
    var label = s.unlocode + (s.name ? " (" + s.name + ")" : "") + ": " +
      s.moves.map(function (m) { return m.text; }).join(", then ");
    L.circleMarker(route[i], { className: "route-port", radius: i === 0 ? 7 : 5, color: "#7a1023",
      fillColor: i === 0 ? "#b4233b" : "#fff", fillOpacity: 1, weight: 2 }).bindTooltip(label).addTo(map);
    bounds.extend(route[i]);
  });
  if (track.length > 0) {
    L.polyline(track, { className: "vessel-track", color: "#1f5fa8", weight: 2 }).addTo(map);
    var last = data.track[data.track.length - 1];
    L.circleMarker(track[track.length - 1], { className: "vessel-last", radius: 4, color: "#1f5fa8", fillOpacity: 1 })
      .bindTooltip("last AIS position " + String(last[2]).slice(0, 16).replace("T", " ") + " UTC" +
                   (last[3] === null ? "" : ", " + last[3] + " kn"))
      .addTo(map);
    track.forEach(function (p) { bounds.extend(p); });
  }
  // the map is one image to assistive technology (role=img); its facts are in the list under it,
  // so its markers are no tab stops of their own (an accessibility review: four unnamed stops)
  element.querySelectorAll(".leaflet-interactive").forEach(function (el) {
    el.setAttribute("tabindex", "-1");
    el.setAttribute("aria-hidden", "true");
  });
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [24, 24], maxZoom: 6 });
  } else {
    map.setView([30, 0], 1.5);
  }

  fetch("/static/vendor/world-atlas/countries-50m.json")
    .then(function (r) { if (!r.ok) { throw new Error("basemap " + r.status); } return r.json(); })
    .then(function (world) {
      var land = topojson.feature(world, world.objects.land);
      var borders = topojson.mesh(world, world.objects.countries, function (a, b) { return a !== b; });
      // the world once more beside the first where what is shown runs past 180 degrees
      var turns = [0];
      if (bounds.isValid() && bounds.getEast() > 180) { turns.push(360); }
      if (bounds.isValid() && bounds.getWest() < -180) { turns.push(-360); }
      turns.forEach(function (shift) {
        var at = function (c) { return L.latLng(c[1], c[0] + shift); };
        L.geoJSON(land, { pane: "basemap", interactive: false, coordsToLatLng: at,
          style: { className: "basemap-land", color: "#a9a28f", weight: 0.6, fillColor: "#efeadb", fillOpacity: 1 } })
          .addTo(map);
        L.geoJSON(borders, { pane: "basemap", interactive: false, coordsToLatLng: at,
          style: { className: "basemap-borders", color: "#c2baa3", weight: 0.5 } }).addTo(map);
      });
      element.dataset.basemap = "ready";
    })
    .catch(function (err) { element.dataset.basemap = "failed"; console.error(err); });
})();
