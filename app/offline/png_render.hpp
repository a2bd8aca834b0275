// `analyze --format png`: the HTML report's timeline drawn by a real browser engine (Debian's chromium,
// headless), so that the PNG is the page a person would see, not a second drawing of it.
#pragma once

#include <string>

namespace wt::app {

// Loads page_path (an HTML report) with ?view=timeline in headless Chromium and writes its screenshot
// to png_path. The browser: $WIRETALLY_CHROMIUM, else chromium (or chromium-browser, google-chrome)
// on PATH. False with the reason in `error` when no browser is found, it fails or takes more than
// two minutes, or no PNG came out.
bool render_png(const std::string& page_path, const std::string& png_path, std::string& error);

} // namespace wt::app
