// LOLWUT [VERSION v] [args...]: Redis's computer art and version line (lolwut.c, lolwut5.c,
// lolwut6.c). Version 5 draws Georg Nees's "Schotter" in Braille characters, version 6 a skyline
// in terminal colours; any other version, and the default for a 7.0 server, prints only the
// version line. The drawings follow Redis's arithmetic (its float and int conversions included),
// with the server's random source in place of rand().
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "server/commands/args.h"
#include "server/commands/families.h"
#include "server/commands/services.h"
#include "server/core/strings.h"
#include "server/engine/context.h"
#include "server/engine/registry.h"

namespace keyward {

namespace {

constexpr std::string_view kRedisVersion = KEYWARD_REDIS_VERSION;

// rand(): an int in [0, RAND_MAX] (2^31 - 1 with glibc).
int Rand(std::mt19937_64& rng) { return static_cast<int>(rng() >> 33); }
constexpr float kRandMax = 2147483647.0f;

// lwCanvas: one byte per pixel, its colour; drawing outside the canvas does nothing, and reading
// outside it gives 0.
class Canvas {
 public:
  Canvas(int width, int height, int bgcolor)
      : width_(width),
        height_(height),
        pixels_(static_cast<size_t>(width) * static_cast<size_t>(height),
                static_cast<char>(bgcolor)) {}

  int width() const { return width_; }
  int height() const { return height_; }

  void DrawPixel(int x, int y, int color) {
    if (x < 0 || x >= width_ || y < 0 || y >= height_) return;
    pixels_[static_cast<size_t>(x) + static_cast<size_t>(y) * width_] = static_cast<char>(color);
  }
  int GetPixel(int x, int y) const {
    if (x < 0 || x >= width_ || y < 0 || y >= height_) return 0;
    return pixels_[static_cast<size_t>(x) + static_cast<size_t>(y) * width_];
  }

  // lwDrawLine: Bresenham's line from (x1, y1) to (x2, y2), both ends included.
  void DrawLine(int x1, int y1, int x2, int y2, int color) {
    const int dx = std::abs(x2 - x1), dy = std::abs(y2 - y1);
    const int sx = x1 < x2 ? 1 : -1, sy = y1 < y2 ? 1 : -1;
    int err = dx - dy;
    while (true) {
      DrawPixel(x1, y1, color);
      if (x1 == x2 && y1 == y2) break;
      const int e2 = err * 2;
      if (e2 > -dy) {
        err -= dy;
        x1 += sx;
      }
      if (e2 < dx) {
        err += dx;
        y1 += sy;
      }
    }
  }

  // lwDrawSquare: a square of side `size` centred on (x, y), rotated by `angle` radians. The
  // corners lie on a circle: its radius is the side over sqrt(2), rounded.
  void DrawSquare(int x, int y, float size, float angle, int color) {
    int px[4], py[4];
    size = static_cast<float>(size / 1.4142135623);
    size = static_cast<float>(std::round(static_cast<double>(size)));
    float k = static_cast<float>(M_PI / 4 + angle);
    for (int j = 0; j < 4; j++) {
      // In double, as C's sin() and round() of a float.
      px[j] = static_cast<int>(std::round(std::sin(static_cast<double>(k)) * size + x));
      py[j] = static_cast<int>(std::round(std::cos(static_cast<double>(k)) * size + y));
      k = static_cast<float>(k + M_PI / 2);
    }
    for (int j = 0; j < 4; j++) DrawLine(px[j], py[j], px[(j + 1) % 4], py[(j + 1) % 4], color);
  }

 private:
  int width_, height_;
  std::vector<char> pixels_;
};

// lwDrawSchotter: rows of squares, turned and shifted more and more at random going down (the
// first two rows stay in place).
Canvas DrawSchotter(int console_cols, int squares_per_row, int squares_per_col,
                    std::mt19937_64& rng) {
  const int canvas_width = console_cols * 2;
  const int padding = canvas_width > 4 ? 2 : 0;
  const float square_side = static_cast<float>(canvas_width - padding * 2) / squares_per_row;
  const int canvas_height = static_cast<int>(square_side * squares_per_col + padding * 2);
  Canvas canvas(canvas_width, canvas_height, 0);
  for (int y = 0; y < squares_per_col; y++) {
    for (int x = 0; x < squares_per_row; x++) {
      int sx = static_cast<int>(x * square_side + square_side / 2 + padding);
      int sy = static_cast<int>(y * square_side + square_side / 2 + padding);
      float angle = 0;
      if (y > 1) {
        float r1 = static_cast<float>(Rand(rng)) / kRandMax / squares_per_col * y;
        float r2 = static_cast<float>(Rand(rng)) / kRandMax / squares_per_col * y;
        float r3 = static_cast<float>(Rand(rng)) / kRandMax / squares_per_col * y;
        if (Rand(rng) % 2) r1 = -r1;
        if (Rand(rng) % 2) r2 = -r2;
        if (Rand(rng) % 2) r3 = -r3;
        angle = r1;
        sx = static_cast<int>(sx + r2 * square_side / 3);
        sy = static_cast<int>(sy + r3 * square_side / 3);
      }
      canvas.DrawSquare(sx, sy, square_side, angle, 1);
    }
  }
  return canvas;
}

// lolwut5.c's renderCanvas: each 2x4 block of pixels as one Braille character (U+2800 plus the
// block's dot bits), a newline after every row of characters but one that would start at the
// canvas's last pixel row.
std::string RenderBraille(const Canvas& canvas) {
  std::string text;
  for (int y = 0; y < canvas.height(); y += 4) {
    for (int x = 0; x < canvas.width(); x += 2) {
      // Dots 1-8 of the Braille cell: (x, y..y+2) are bits 0-2, (x+1, y..y+2) bits 3-5, the
      // bottom row bits 6 and 7.
      int byte = 0;
      if (canvas.GetPixel(x, y)) byte |= 1 << 0;
      if (canvas.GetPixel(x, y + 1)) byte |= 1 << 1;
      if (canvas.GetPixel(x, y + 2)) byte |= 1 << 2;
      if (canvas.GetPixel(x + 1, y)) byte |= 1 << 3;
      if (canvas.GetPixel(x + 1, y + 1)) byte |= 1 << 4;
      if (canvas.GetPixel(x + 1, y + 2)) byte |= 1 << 5;
      if (canvas.GetPixel(x, y + 3)) byte |= 1 << 6;
      if (canvas.GetPixel(x + 1, y + 3)) byte |= 1 << 7;
      // U+2800..U+28FF in UTF-8: 1110xxxx 10xxxxxx 10xxxxxx.
      const int code = 0x2800 + byte;
      text += static_cast<char>(0xE0 | (code >> 12));
      text += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      text += static_cast<char>(0x80 | (code & 0x3F));
    }
    if (y != canvas.height() - 1) text += '\n';
  }
  return text;
}

// lolwut6.c: one building, `height` pixels tall from the canvas's bottom, its roof two pixels
// narrower on each side; with `windows`, two-pixel-wide windows of another colour on every
// other row, away from the walls.
struct Skyscraper {
  int xoff;
  int width;
  int height;
  bool windows;
  int color;
};

void DrawSkyscraper(Canvas& canvas, const Skyscraper& si, std::mt19937_64& rng) {
  const int starty = canvas.height() - 1;
  const int endy = starty - si.height + 1;
  for (int y = starty; y >= endy; y--) {
    for (int x = si.xoff; x < si.xoff + si.width; x++) {
      if (y == endy && (x <= si.xoff + 1 || x >= si.xoff + si.width - 2)) continue;
      int color = si.color;
      if (si.windows && x > si.xoff + 1 && x < si.xoff + si.width - 2 && y > endy + 1 &&
          y < starty - 1) {
        const int relx = x - (si.xoff + 1);
        const int rely = y - (endy + 1);
        if (relx / 2 % 2 && rely % 2) {
          do {
            color = 1 + Rand(rng) % 2;
          } while (color == si.color);
          // Both pixels of a window have its colour.
          if (relx % 2) color = canvas.GetPixel(x - 1, y);
        }
      }
      canvas.DrawPixel(x, y, color);
    }
  }
}

// generateSkyline: two rows of grey buildings behind (the lighter ones furthest), then the
// black ones with windows in front.
void DrawSkyline(Canvas& canvas, std::mt19937_64& rng) {
  const int h = canvas.height();
  Skyscraper si{};
  for (int color = 2; color >= 1; color--) {
    si.color = color;
    for (int offset = -10; offset < canvas.width();) {
      offset += Rand(rng) % 8;
      si.xoff = offset;
      si.width = 10 + Rand(rng) % 9;
      if (color == 2) {
        si.height = h / 2 + Rand(rng) % h / 2;
      } else {
        si.height = h / 2 + Rand(rng) % h / 3;
      }
      si.windows = false;
      DrawSkyscraper(canvas, si, rng);
      offset += color == 2 ? si.width / 2 : si.width + 1;
    }
  }
  si.color = 0;
  for (int offset = -10; offset < canvas.width();) {
    offset += Rand(rng) % 8;
    si.xoff = offset;
    si.width = 5 + Rand(rng) % 14;
    if (si.width % 4) si.width += si.width % 3;
    si.height = h / 3 + Rand(rng) % h / 2;
    si.windows = true;
    DrawSkyscraper(canvas, si, rng);
    offset += si.width + 5;
  }
}

// lolwut6.c's renderCanvas: every pixel a space in one of the terminal's four greys (both
// foreground and background set, so terminals agree).
std::string RenderColors(const Canvas& canvas) {
  std::string text;
  for (int y = 0; y < canvas.height(); y++) {
    for (int x = 0; x < canvas.width(); x++) {
      std::string_view ce;
      switch (canvas.GetPixel(x, y)) {
        case 1:
          ce = "0;90;100m";  // grey 1
          break;
        case 2:
          ce = "0;37;47m";  // grey 2
          break;
        case 3:
          ce = "0;97;107m";  // white
          break;
        default:
          ce = "0;30;40m";  // black
          break;
      }
      text += "\033[";
      text += ce;
      text += " \033[0m";
    }
    if (y != canvas.height() - 1) text += '\n';
  }
  return text;
}

// LOLWUT VERSION 5 [cols] [squares-per-row] [squares-per-col]
void Lolwut5(CmdArgs params, CommandContext& ctx) {
  int64_t cols = 66, squares_per_row = 8, squares_per_col = 12;
  if (params.size() > 0 && !GetLong(ctx, params[0], &cols)) return;
  if (params.size() > 1 && !GetLong(ctx, params[1], &squares_per_row)) return;
  if (params.size() > 2 && !GetLong(ctx, params[2], &squares_per_col)) return;
  // Redis's limits keep the command cheap.
  cols = std::clamp<int64_t>(cols, 1, 1000);
  squares_per_row = std::clamp<int64_t>(squares_per_row, 1, 200);
  squares_per_col = std::clamp<int64_t>(squares_per_col, 1, 200);
  const Canvas canvas = DrawSchotter(static_cast<int>(cols), static_cast<int>(squares_per_row),
                                     static_cast<int>(squares_per_col), ctx.services().rng);
  std::string rendered = RenderBraille(canvas);
  rendered += "\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. ";
  rendered += kRedisVersion;
  rendered += '\n';
  ctx.rb().SendVerbatim(rendered);
}

// LOLWUT VERSION 6 [cols] [rows]
void Lolwut6(CmdArgs params, CommandContext& ctx) {
  int64_t cols = 80, rows = 20;
  if (params.size() > 0 && !GetLong(ctx, params[0], &cols)) return;
  if (params.size() > 1 && !GetLong(ctx, params[1], &rows)) return;
  cols = std::clamp<int64_t>(cols, 1, 1000);
  rows = std::clamp<int64_t>(rows, 1, 1000);
  Canvas canvas(static_cast<int>(cols), static_cast<int>(rows), 3);
  DrawSkyline(canvas, ctx.services().rng);
  std::string rendered = RenderColors(canvas);
  rendered +=
      "\nDedicated to the 8 bit game developers of past and present.\n"
      "Original 8 bit image from Plaguemon by hikikomori. Redis ver. ";
  rendered += kRedisVersion;
  rendered += '\n';
  ctx.rb().SendVerbatim(rendered);
}

// lolwutCommand: which drawing a version string asks for. x.9 releases were the next version's
// release candidates (4.9 is 5's, 5.9 is 6's).
int DrawingFor(std::string_view v) {
  auto at = [&v](size_t i) { return i < v.size() ? v[i] : '\0'; };
  if ((at(0) == '5' && at(1) == '.' && at(2) != '9') ||
      (at(0) == '4' && at(1) == '.' && at(2) == '9')) {
    return 5;
  }
  if ((at(0) == '6' && at(1) == '.' && at(2) != '9') ||
      (at(0) == '5' && at(1) == '.' && at(2) == '9')) {
    return 6;
  }
  return 0;  // this version's own: the version line alone
}

void CmdLolwut(CmdArgs args, CommandContext& ctx) {
  // The drawing reads the arguments after the command, or after VERSION v.
  std::string version(kRedisVersion);
  CmdArgs params = args.subspan(1);
  if (args.size() >= 3 && EqualsIgnoreCase(args[1], "version")) {
    int64_t v;
    if (!GetLong(ctx, args[2], &v)) return;
    // Redis prints the number as "%u.0.0": a negative or huge one wraps to 32 bits.
    version = std::to_string(static_cast<uint32_t>(v)) + ".0.0";
    params = args.subspan(3);
  }
  switch (DrawingFor(version)) {
    case 5:
      return Lolwut5(params, ctx);
    case 6:
      return Lolwut6(params, ctx);
    default:
      ctx.rb().SendVerbatim("Redis ver. " + std::string(kRedisVersion) + "\n");
  }
}

}  // namespace

void RegisterLolwutFamily(CommandRegistry& r) {
  r << CommandSpec{"lolwut",
                   -1,
                   CO::kReadOnly | CO::kFast,
                   0,
                   0,
                   0,
                   0,
                   CmdLolwut,
                   {"Display some computer art and the Redis version", "5.0.0", "server", "",
                    "[VERSION version]"}};
}

}  // namespace keyward
