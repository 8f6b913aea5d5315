// Number parsing and formatting with exactly Redis's rules (util.c: string2ll, ld2string, ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keyward {

// Strict integer parsing: optional '-', no '+', no spaces, no leading zeros, fits in int64.
bool ParseInt64(std::string_view s, int64_t* value);
bool ParseUint64(std::string_view s, uint64_t* value);
// Redis's getDoubleFromObject: strtod, no leading space, whole string consumed, not NaN,
// no overflow. "inf" and "-inf" are accepted.
bool ParseDouble(std::string_view s, double* value);
// Redis's string2ld (INCRBYFLOAT, HINCRBYFLOAT): like ParseDouble but long double. "inf" is
// accepted; callers reject an infinite or NaN result ("increment would produce NaN or Infinity").
bool ParseLongDouble(std::string_view s, long double* value);

// Decimal text of an integer, without allocation beyond the returned string.
std::string FormatInt64(int64_t v);
// Human-friendly long double as INCRBYFLOAT replies it ("%.17Lf", trailing zeros trimmed).
std::string FormatLongDouble(long double v);
// Doubles as Redis prints them in replies (%.17g, "inf", "-inf", "nan").
std::string FormatDouble(double v);

// Redis's glob matching (stringmatchlen): '*', '?', '[...]', '[^...]', ranges and '\' escapes.
bool GlobMatch(std::string_view pattern, std::string_view str, bool nocase = false);

// Redis's sdscatrepr: the string in double quotes with \\ \" \n \r \t \a \b escaped and other
// non-printable bytes as \xHH (MONITOR lines, CONFIG REWRITE values, config error reports).
std::string Repr(std::string_view s);

// ASCII lower-casing, as Redis compares command names and options.
std::string ToLower(std::string_view s);
std::string ToUpper(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Bytes as lower-case hex ("\x01\xab" -> "01ab"): digests, run ids, passwords.
std::string HexLower(std::string_view bytes);
// `n` random lower-case hex digits from `rng` (run ids, replication ids, sentinel ids).
template <typename Rng>
std::string RandomHex(Rng& rng, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(n, '0');
  for (char& c : s) c = kHex[rng() & 15];
  return s;
}

// Splits a line the way Redis's sdssplitargs does (inline commands, config files, shebangs):
// whitespace separated, "double quotes" with \n \r \t \b \a \\ \" \xHH escapes, 'single quotes'
// with \' only. Returns false on unbalanced quotes or a closing quote not followed by a space.
bool SplitArgs(std::string_view line, std::vector<std::string>* out);
// Redis's sdssplitlen: the pieces between occurrences of `sep` (empty pieces included).
std::vector<std::string_view> Split(std::string_view s, std::string_view sep);
// Redis's yesnotoi: "yes" or "no" in any case; nothing for anything else.
std::optional<bool> ParseYesNo(std::string_view s);

}  // namespace keyward
