#!/usr/bin/env bash
# Copy the browser assets the built book needs (MathJax, RequireJS, the Jupyter widget manager)
# from node_modules into _build/vendor/_vendor, which _config.yml publishes at the site root
# (html_extra_path) so that the book works with no CDN. Kept out of _static on purpose:
# jupyter-book injects every *.js under a static path into every page.
set -euo pipefail
cd "$(dirname "$0")/.."
out=_build/vendor/_vendor
rm -rf "$out"
mkdir -p "$out/mathjax" "$out/requirejs" "$out/html-manager"
cp -r node_modules/mathjax/es5/. "$out/mathjax/"
cp node_modules/requirejs/require.js "$out/requirejs/"
find node_modules/@jupyter-widgets/html-manager/dist -maxdepth 1 -type f ! -name '*.map' \
    -exec cp {} "$out/html-manager/" \;
echo "vendored browser assets into $out ($(du -sh "$out" | cut -f1))"
