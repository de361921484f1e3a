#!/usr/bin/env bash
# Install the workbench's front-end libraries from the npm registry (exact versions from
# package-lock.json) and copy the files the pages use, with their licences, into
# src/scheldt/web/static/vendor/ (git-ignored), from where the server serves them: the
# workbench never loads anything from the internet at run time.
set -euo pipefail
cd "$(dirname "$0")"
# --ignore-scripts: no package runs code at install (swagger-ui-dist pulls in an analytics hook)
npm ci --no-audit --no-fund --loglevel=error --ignore-scripts
out=../src/scheldt/web/static/vendor
rm -rf "$out"
mkdir -p "$out/leaflet/images" "$out/chart.js" "$out/topojson-client" "$out/world-atlas" "$out/swagger-ui"
m=node_modules
cp $m/leaflet/dist/leaflet.js $m/leaflet/dist/leaflet.css $m/leaflet/LICENSE "$out/leaflet/"
cp $m/leaflet/dist/images/*.png "$out/leaflet/images/"
cp $m/chart.js/dist/chart.umd.min.js $m/chart.js/LICENSE.md "$out/chart.js/"
cp $m/topojson-client/dist/topojson-client.min.js $m/topojson-client/LICENSE "$out/topojson-client/"
cp $m/world-atlas/countries-50m.json $m/world-atlas/LICENSE "$out/world-atlas/"
cp $m/swagger-ui-dist/swagger-ui-bundle.js $m/swagger-ui-dist/swagger-ui.css $m/swagger-ui-dist/favicon-32x32.png \
  $m/swagger-ui-dist/LICENSE "$out/swagger-ui/"
