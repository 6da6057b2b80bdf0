// SPDX-License-Identifier: Apache-2.0
// Private: what the HTML pages of runs and sweeps share.
#pragma once

#include <string>

namespace cpsd::vis {

/// Text with HTML's special characters escaped.
inline std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// The pages' style sheet.
inline const char* page_style() {
  return "<style>body{font-family:sans-serif;margin:24px;max-width:1400px}table{border-collapse:"
         "collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
         "td:first-child{text-align:left}img{max-width:100%;border:1px solid #ddd;margin:4px 0}"
         ".bar{background:#4878d0;height:10px}pre{background:#f6f6f6;padding:8px;overflow:auto;"
         "font-size:12px}.warn{color:#a33;font-weight:bold}</style>";
}

}  // namespace cpsd::vis
