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

  var bounds = L.latLngBounds([]);
  var route = data.route.map(function (s) { return [s.lat, s.lon]; });
  if (route.length > 1) {
    L.polyline(route, { className: "route-line", color: "#b4233b", weight: 2.5, dashArray: "6 5" }).addTo(map);
  }
  data.route.forEach(function (s, i) {
    var label = s.unlocode + (s.name ? " (" + s.name + ")" : "") + ": " +
      s.moves.map(function (m) { return m.text; }).join(", then ");
    L.circleMarker([s.lat, s.lon], { className: "route-port", radius: i === 0 ? 7 : 5, color: "#7a1023",
      fillColor: i === 0 ? "#b4233b" : "#fff", fillOpacity: 1, weight: 2 }).bindTooltip(label).addTo(map);
    bounds.extend([s.lat, s.lon]);
  });
  var track = data.track.map(function (p) { return [p[0], p[1]]; });
  if (track.length > 0) {
    L.polyline(track, { className: "vessel-track", color: "#1f5fa8", weight: 2 }).addTo(map);
    var last = data.track[data.track.length - 1];
    L.circleMarker([last[0], last[1]], { className: "vessel-last", radius: 4, color: "#1f5fa8", fillOpacity: 1 })
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
      L.geoJSON(topojson.feature(world, world.objects.land), { pane: "basemap", interactive: false,
        style: { className: "basemap-land", color: "#a9a28f", weight: 0.6, fillColor: "#efeadb", fillOpacity: 1 } })
        .addTo(map);
      L.geoJSON(topojson.mesh(world, world.objects.countries, function (a, b) { return a !== b; }),
        { pane: "basemap", interactive: false, style: { className: "basemap-borders", color: "#c2baa3", weight: 0.5 } })
        .addTo(map);
      element.dataset.basemap = "ready";
    })
    .catch(function (err) { element.dataset.basemap = "failed"; console.error(err); });
})();
