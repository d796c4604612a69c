#!/bin/sh
# Build STAC Browser once into a cache directory keyed on browser/package.json and this script.
#
#   browser/build.sh            -> prints the dist directory (builds it first when missing)
#
# The npm package is source only; as published its build fails because `ol-stac` resolves to a
# version needing a newer `ol`, so the pin from browser/package.json is written into its
# package.json (dependency and overrides). The config.js script line is enabled so the served API
# URL is given at run time (`eocat serve` answers /browser/config.js), and hash routing lets a
# plain static server serve dist/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
command -v npm >/dev/null 2>&1 || { echo "browser/build.sh: npm is required to build STAC Browser (apt-get install -y npm)" >&2; exit 1; }
key=$(cat "$here/package.json" "$here/build.sh" | sha256sum | cut -c1-12)
version=$(node -p "require('$here/package.json').dependencies['@radiantearth/stac-browser']")
cache="${EOCAT_BROWSER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/eocat}/stac-browser-$version-$key"
if [ -f "$cache/dist/index.html" ]; then echo "$cache/dist"; exit 0; fi
mkdir -p "$(dirname "$cache")"
work=$(mktemp -d "$(dirname "$cache")/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "building STAC Browser $version in $work (npm install + build, a few minutes, once)" >&2
npm pack --silent "@radiantearth/stac-browser@$version" >/dev/null
tar xzf radiantearth-stac-browser-*.tgz
cd package
node -e '
const fs = require("fs");
const pins = require(process.argv[1]);
const pkg = JSON.parse(fs.readFileSync("package.json"));
for (const [name, spec] of Object.entries(pins.dependencies)) if (pkg.dependencies[name]) pkg.dependencies[name] = spec;
pkg.overrides = Object.assign({}, pkg.overrides, pins.overrides);
fs.writeFileSync("package.json", JSON.stringify(pkg, null, 2));
' "$here/package.json"
sed -i 's#<!-- <script defer="defer" src="/config.js"></script> -->#<script defer="defer" src="./config.js"></script>#' public/index.html
grep -q 'src="./config.js"' public/index.html || { echo "browser/build.sh: could not enable config.js in public/index.html" >&2; exit 1; }
npm install --no-audit --no-fund --loglevel=error >&2
SB_historyMode=hash SB_pathPrefix=/browser/ SB_catalogUrl= npx vue-cli-service build --noSourceMaps >&2
printf 'window.STAC_BROWSER_CONFIG = {};\n' > dist/config.js
mkdir -p "$cache"
rm -rf "$cache/dist"
mv dist "$cache/dist"
echo "$cache/dist"
