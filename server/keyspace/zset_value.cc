#include "server/keyspace/zset_value.h"

#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "server/core/strings.h"
#include "server/persistence/rdb_codec.h"

namespace keyward {

namespace {

// strtod over the argument as a C string: Redis parses range ends from the sds buffer, so bytes
// after an embedded NUL are never seen.
bool ParseRangeNumber(std::string_view s, double* out) {
  const size_t nul = s.find('\0');
  std::string buf(s.substr(0, nul));
  char* end;
  const double v = std::strtod(buf.c_str(), &end);
  if (*end != '\0' || std::isnan(v)) return false;
  *out = v;
  return true;
}

bool ParseScoreBound(std::string_view s, double* value, bool* exclusive) {
  *exclusive = !s.empty() && s[0] == '(';
  return ParseRangeNumber(*exclusive ? s.substr(1) : s, value);
}

bool ParseLexBound(std::string_view s, LexBound* out) {
  if (s.empty()) return false;
  // "+" and "-" are read as C strings too: a NUL may follow them.
  const bool alone = s.size() == 1 || s[1] == '\0';
  switch (s[0]) {
    case '+':
      if (!alone) return false;
      out->kind = LexBound::Kind::kMax;
      out->exclusive = true;
      return true;
    case '-':
      if (!alone) return false;
      out->kind = LexBound::Kind::kMin;
      out->exclusive = true;
      return true;
    case '(':
    case '[':
      out->kind = LexBound::Kind::kValue;
      out->exclusive = s[0] == '(';
      out->value.assign(s.substr(1));
      return true;
    default:
      return false;
  }
}

// zzlStrtod: a score stored as text (at most 127 characters are read).
double ParseStoredScore(std::string_view s) {
  char buf[128];
  const size_t n = s.size() < sizeof(buf) - 1 ? s.size() : sizeof(buf) - 1;
  std::memcpy(buf, s.data(), n);
  buf[n] = '\0';
  return std::strtod(buf, nullptr);
}

// A score stored as text in a listpack from a payload: all of it a number, and not NaN (what
// d2string writes always is).
bool ParseStoredScoreStrict(std::string_view s, double* out) {
  if (s.empty()) return false;
  const std::string buf(s);
  char* end;
  const double v = std::strtod(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size() || std::isnan(v)) return false;
  *out = v;
  return true;
}

double ElementScore(const LpElement& e) {
  return e.is_int ? static_cast<double>(e.value) : ParseStoredScore(e.str);
}

// d2string for a score that is not stored as an integer.
std::string ScoreText(double score) {
  if (std::isnan(score)) return "nan";
  if (std::isinf(score)) return score > 0 ? "inf" : "-inf";
  char buf[64];
  const int n = std::snprintf(buf, sizeof(buf), "%.17g", score);
  return std::string(buf, static_cast<size_t>(n));
}

// zzlInsertAt: the member and its score before the entry at `pos` (kEnd: at the end).
void InsertPair(Listpack& lp, uint32_t pos, std::string_view member, double score) {
  const uint32_t at = lp.InsertBefore(pos, member);
  const uint32_t score_pos = lp.Next(at);  // the entry that followed the member (or kEnd)
  int64_t ll;
  if (ZScoreAsInteger(score, &ll)) {
    lp.InsertInt(score_pos, ll);
  } else {
    lp.InsertBefore(score_pos, ScoreText(score));
  }
}

void AppendDouble(std::string& out, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  for (int i = 0; i < 8; i++) out.push_back(static_cast<char>((bits >> (8 * i)) & 0xff));
}

}  // namespace

bool ZScoreAsInteger(double d, int64_t* out) {
  // double2ll: only within +-LLONG_MAX/2, where every double converts exactly.
  if (std::isnan(d) || d < static_cast<double>(-LLONG_MAX / 2) ||
      d > static_cast<double>(LLONG_MAX / 2)) {
    return false;
  }
  const auto ll = static_cast<long long>(d);
  if (static_cast<double>(ll) != d) return false;
  *out = ll;
  return true;
}

bool ParseScoreRange(std::string_view min, std::string_view max, ScoreRange* out) {
  return ParseScoreBound(min, &out->min, &out->minex) &&
         ParseScoreBound(max, &out->max, &out->maxex);
}

int LexBound::Compare(std::string_view s) const {
  switch (kind) {
    case Kind::kMin:
      return 1;
    case Kind::kMax:
      return -1;
    case Kind::kValue:
      break;
  }
  return CompareMembers(s, value);
}

bool LexRange::Empty() const {
  // sdscmplex(min, max): the shared -/+ strings compare equal only to themselves.
  int cmp;
  if (min.kind == max.kind && min.kind != LexBound::Kind::kValue) {
    cmp = 0;
  } else if (min.kind == LexBound::Kind::kMin || max.kind == LexBound::Kind::kMax) {
    cmp = -1;
  } else if (min.kind == LexBound::Kind::kMax || max.kind == LexBound::Kind::kMin) {
    cmp = 1;
  } else {
    cmp = CompareMembers(min.value, max.value);
  }
  return cmp > 0 || (cmp == 0 && (min.exclusive || max.exclusive));
}

bool ParseLexRange(std::string_view min, std::string_view max, LexRange* out) {
  return ParseLexBound(min, &out->min) && ParseLexBound(max, &out->max);
}

// --- The value --------------------------------------------------------------------------------

std::unique_ptr<ZSetValue> ZSetValue::NewSkiplist() {
  auto z = std::make_unique<ZSetValue>();
  z->rep_ = std::make_unique<ZSetIndex>();
  return z;
}

std::unique_ptr<ZSetValue> ZSetValue::FromListpack(Listpack lp) {
  if (lp.size() % 2 != 0) return nullptr;
  std::unordered_set<std::string> members;
  members.reserve(lp.size() / 2);
  std::string prev_member;
  double prev_score = 0;
  for (uint32_t p = lp.First(); p != Listpack::kEnd;) {
    const uint32_t s = lp.Next(p);
    std::string member = lp.Get(p).ToString();
    const LpElement score_entry = lp.Get(s);
    double score;
    if (score_entry.is_int) {
      score = static_cast<double>(score_entry.value);
    } else if (!ParseStoredScoreStrict(score_entry.str, &score)) {
      return nullptr;
    }
    if (!members.empty() &&
        (score < prev_score || (score == prev_score && CompareMembers(member, prev_member) <= 0))) {
      return nullptr;
    }
    if (!members.insert(member).second) return nullptr;
    prev_member = std::move(member);
    prev_score = score;
    p = lp.Next(s);
  }
  auto z = std::make_unique<ZSetValue>();
  z->rep_ = std::move(lp);
  return z;
}

ZSetValue::ZSetValue(const ZSetValue& other) : Value() {
  if (other.is_listpack()) {
    rep_ = other.lp();
  } else {
    rep_ = std::make_unique<ZSetIndex>(other.sl());
  }
}

std::unique_ptr<Value> ZSetValue::Clone() const { return std::make_unique<ZSetValue>(*this); }

size_t ZSetValue::MemoryUsage() const {
  return sizeof(*this) +
         (is_listpack() ? lp().MemoryUsage() : sizeof(ZSetIndex) + sl().MemoryUsage());
}

// RDB_TYPE_ZSET_2 (a skiplist): the length, then member and binary score pairs from the highest
// score down (rdbSaveObject walks the skiplist from its tail, so loading inserts at the head).
class ZSetValue::TreeWriter : public ValueWriter {
 public:
  explicit TreeWriter(const ZSetValue& z) : z_(z), pos_(z.Last()) {}
  bool WriteSome(ValueSink& out, size_t budget) override {
    std::string bytes;
    if (!started_) {
      rdb::AppendLength(bytes, z_.size());
      started_ = true;
    }
    const bool compress = out.compress();
    char buf[21];
    for (size_t n = 0; pos_.valid() && (n == 0 || n < budget); n++, pos_ = z_.Prev(pos_)) {
      rdb::AppendString(bytes, z_.Member(pos_, buf), compress);
      AppendDouble(bytes, z_.ScoreAt(pos_));
    }
    out.Write(bytes);
    return !pos_.valid();
  }

 private:
  const ZSetValue& z_;
  bool started_ = false;
  Pos pos_;
};

std::unique_ptr<ValueWriter> ZSetValue::NewWriter() const {
  if (is_listpack()) return Value::NewWriter();
  return std::make_unique<TreeWriter>(*this);
}

void ZSetValue::Serialise(ValueSink& out) const {
  if (is_listpack()) {
    // RDB_TYPE_ZSET_LISTPACK: the listpack's bytes as one string.
    std::string bytes;
    rdb::AppendString(bytes, lp().raw(), out.compress());
    out.Write(bytes);
    return;
  }
  SerialiseWithWriter(*this, out);
}

size_t ZSetValue::size() const { return is_listpack() ? lp().size() / 2 : sl().size(); }

// --- Listpack helpers -------------------------------------------------------------------------

double ZSetValue::LpScore(uint32_t eptr) const { return ElementScore(lp().Get(lp().Next(eptr))); }

uint32_t ZSetValue::LpFind(std::string_view member, double* score) const {
  const Listpack& l = lp();
  const uint32_t first = l.First();
  if (first == Listpack::kEnd) return Listpack::kEnd;
  const uint32_t p = l.Find(first, member, 1);
  if (p != Listpack::kEnd && score != nullptr) *score = LpScore(p);
  return p;
}

void ZSetValue::LpInsert(std::string_view member, double score) {
  // zzlInsert: before the first pair with a greater score, or an equal score and a greater
  // member; at the end otherwise.
  Listpack& l = lp();
  char buf[21];
  uint32_t p = l.First();
  while (p != Listpack::kEnd) {
    const uint32_t sptr = l.Next(p);
    const double s = ElementScore(l.Get(sptr));
    if (s > score || (s == score && CompareMembers(l.Get(p).View(buf), member) > 0)) break;
    p = l.Next(sptr);
  }
  InsertPair(l, p, member, score);
}

bool ZSetValue::LpIsInRange(const ScoreRange& r) const {
  if (r.Empty()) return false;
  const Listpack& l = lp();
  const uint32_t last = l.Last();
  if (last == Listpack::kEnd || !r.GteMin(ElementScore(l.Get(last)))) return false;
  return r.LteMax(ElementScore(l.Get(l.Next(l.First()))));
}

bool ZSetValue::LpIsInLexRange(const LexRange& r) const {
  if (r.Empty()) return false;
  const Listpack& l = lp();
  const uint32_t last = l.Last();
  if (last == Listpack::kEnd) return false;
  char buf[21];
  if (!r.GteMin(l.Get(l.Prev(last)).View(buf))) return false;
  return r.LteMax(l.Get(l.First()).View(buf));
}

ZSetValue::Pos ZSetValue::TreePos(ScoreTree::Cursor c) const {
  Pos p;
  p.tree = c;
  return p;
}

// --- Members ----------------------------------------------------------------------------------

ZSetValue::AddResult ZSetValue::Add(double score, std::string_view member, int flags,
                                    double* new_score, const Limits& limits) {
  const bool incr = flags & kIncr, nx = flags & kNx, xx = flags & kXx, gt = flags & kGt,
             lt = flags & kLt;
  if (std::isnan(score)) return AddResult::kNan;

  // An existing member: NX leaves it, INCR adds, GT/LT may refuse, then the score moves.
  auto update = [&](double cur, auto&& move) {
    if (nx) return AddResult::kNop;
    if (incr) {
      score += cur;
      if (std::isnan(score)) return AddResult::kNan;
    }
    if ((lt && score >= cur) || (gt && score <= cur)) return AddResult::kNop;
    if (new_score != nullptr) *new_score = score;
    if (score == cur) return AddResult::kUnchanged;
    move();
    return AddResult::kUpdated;
  };

  if (is_listpack()) {
    double cur;
    const uint32_t p = LpFind(member, &cur);
    if (p != Listpack::kEnd) {
      return update(cur, [&] {
        lp().DeleteRange(p, 2);
        LpInsert(member, score);
      });
    }
    if (xx) return AddResult::kNop;
    if (size() + 1 > limits.max_entries || member.size() > limits.max_value ||
        !lp().SafeToAdd(member.size())) {
      ConvertToSkiplist();
    } else {
      LpInsert(member, score);
      if (new_score != nullptr) *new_score = score;
      return AddResult::kAdded;
    }
  }

  ZSetIndex& index = sl();
  ZNode* n = index.Find(member);
  if (n != nullptr) {
    return update(n->score(), [&] { index.UpdateScore(n, score); });
  }
  if (xx) return AddResult::kNop;
  index.Insert(member, score);
  if (new_score != nullptr) *new_score = score;
  return AddResult::kAdded;
}

void ZSetValue::InsertNew(std::string_view member, double score) {
  if (is_listpack()) {
    LpInsert(member, score);
  } else {
    sl().Insert(member, score);
  }
}

bool ZSetValue::Remove(std::string_view member) {
  if (!is_listpack()) return sl().Remove(member);
  const uint32_t p = LpFind(member, nullptr);
  if (p == Listpack::kEnd) return false;
  lp().DeleteRange(p, 2);
  return true;
}

bool ZSetValue::Score(std::string_view member, double* score) {
  if (is_listpack()) return LpFind(member, score) != Listpack::kEnd;
  const ZNode* n = sl().Find(member);
  if (n == nullptr) return false;
  *score = n->score();
  return true;
}

int64_t ZSetValue::Rank(std::string_view member, bool reverse) {
  const auto len = static_cast<int64_t>(size());
  int64_t rank;
  if (is_listpack()) {
    const Listpack& l = lp();
    rank = 0;
    uint32_t p = l.First();
    while (p != Listpack::kEnd && !l.Get(p).Equals(member)) {
      p = l.Next(l.Next(p));
      rank++;
    }
    if (p == Listpack::kEnd) return -1;
  } else {
    const ZNode* n = sl().Find(member);
    if (n == nullptr) return -1;
    rank = static_cast<int64_t>(sl().Rank(n));
  }
  return reverse ? len - 1 - rank : rank;
}

// --- Ordered access ---------------------------------------------------------------------------

ZSetValue::Pos ZSetValue::First() const {
  if (!is_listpack()) return TreePos(sl().tree().First());
  Pos p;
  p.lp = lp().First();
  return p;
}

ZSetValue::Pos ZSetValue::Last() const {
  if (!is_listpack()) return TreePos(sl().tree().Last());
  Pos p;
  const uint32_t last = lp().Last();
  p.lp = last == Listpack::kEnd ? Listpack::kEnd : lp().Prev(last);
  return p;
}

ZSetValue::Pos ZSetValue::AtRank(size_t rank) const {
  if (!is_listpack()) return TreePos(sl().tree().At(rank));
  Pos p;
  if (rank < size()) p.lp = lp().Seek(static_cast<int64_t>(rank * 2));
  return p;
}

ZSetValue::Pos ZSetValue::Next(Pos p) const {
  if (!is_listpack()) return TreePos(ScoreTree::Next(p.tree));
  p.lp = lp().Next(lp().Next(p.lp));
  return p;
}

ZSetValue::Pos ZSetValue::Prev(Pos p) const {
  if (!is_listpack()) return TreePos(ScoreTree::Prev(p.tree));
  const uint32_t sptr = lp().Prev(p.lp);
  p.lp = sptr == Listpack::kEnd ? Listpack::kEnd : lp().Prev(sptr);
  return p;
}

std::string_view ZSetValue::Member(Pos p, char* buf) const {
  if (!is_listpack()) return ScoreTree::Get(p.tree).member();
  return lp().Get(p.lp).View(buf);
}

double ZSetValue::ScoreAt(Pos p) const {
  if (!is_listpack()) return ScoreTree::Get(p.tree).score;
  return LpScore(p.lp);
}

ZSetValue::Pos ZSetValue::FirstInRange(const ScoreRange& r) const {
  if (is_listpack()) {
    if (!LpIsInRange(r)) return {};
    for (Pos p = First(); p.valid(); p = Next(p)) {
      const double s = ScoreAt(p);
      if (r.GteMin(s)) return r.LteMax(s) ? p : Pos{};
    }
    return {};
  }
  const ScoreTree& t = sl().tree();
  // zslIsInRange, then the first entry at or past min.
  if (r.Empty() || t.empty() || !r.GteMin(ScoreTree::Get(t.Last()).score) ||
      !r.LteMax(ScoreTree::Get(t.First()).score)) {
    return {};
  }
  const size_t rank = t.CountWhile([&r](const ScoreEntry& e) { return !r.GteMin(e.score); });
  const ScoreTree::Cursor c = t.At(rank);
  if (!c.valid() || !r.LteMax(ScoreTree::Get(c).score)) return {};
  return TreePos(c);
}

ZSetValue::Pos ZSetValue::LastInRange(const ScoreRange& r) const {
  if (is_listpack()) {
    if (!LpIsInRange(r)) return {};
    for (Pos p = Last(); p.valid(); p = Prev(p)) {
      const double s = ScoreAt(p);
      if (r.LteMax(s)) return r.GteMin(s) ? p : Pos{};
    }
    return {};
  }
  const ScoreTree& t = sl().tree();
  if (r.Empty() || t.empty() || !r.GteMin(ScoreTree::Get(t.Last()).score) ||
      !r.LteMax(ScoreTree::Get(t.First()).score)) {
    return {};
  }
  const size_t end = t.CountWhile([&r](const ScoreEntry& e) { return r.LteMax(e.score); });
  if (end == 0) return {};
  const ScoreTree::Cursor c = t.At(end - 1);
  if (!r.GteMin(ScoreTree::Get(c).score)) return {};
  return TreePos(c);
}

ZSetValue::Pos ZSetValue::FirstInLexRange(const LexRange& r) const {
  char buf[21];
  if (is_listpack()) {
    if (!LpIsInLexRange(r)) return {};
    for (Pos p = First(); p.valid(); p = Next(p)) {
      const std::string_view m = Member(p, buf);
      if (r.GteMin(m)) return r.LteMax(m) ? p : Pos{};
    }
    return {};
  }
  const ScoreTree& t = sl().tree();
  if (r.Empty() || t.empty() || !r.GteMin(ScoreTree::Get(t.Last()).member()) ||
      !r.LteMax(ScoreTree::Get(t.First()).member())) {
    return {};
  }
  const size_t rank = t.CountWhile([&r](const ScoreEntry& e) { return !r.GteMin(e.member()); });
  const ScoreTree::Cursor c = t.At(rank);
  if (!c.valid() || !r.LteMax(ScoreTree::Get(c).member())) return {};
  return TreePos(c);
}

ZSetValue::Pos ZSetValue::LastInLexRange(const LexRange& r) const {
  char buf[21];
  if (is_listpack()) {
    if (!LpIsInLexRange(r)) return {};
    for (Pos p = Last(); p.valid(); p = Prev(p)) {
      const std::string_view m = Member(p, buf);
      if (r.LteMax(m)) return r.GteMin(m) ? p : Pos{};
    }
    return {};
  }
  const ScoreTree& t = sl().tree();
  if (r.Empty() || t.empty() || !r.GteMin(ScoreTree::Get(t.Last()).member()) ||
      !r.LteMax(ScoreTree::Get(t.First()).member())) {
    return {};
  }
  const size_t end = t.CountWhile([&r](const ScoreEntry& e) { return r.LteMax(e.member()); });
  if (end == 0) return {};
  const ScoreTree::Cursor c = t.At(end - 1);
  if (!r.GteMin(ScoreTree::Get(c).member())) return {};
  return TreePos(c);
}

size_t ZSetValue::Count(const ScoreRange& r) const {
  Pos p = FirstInRange(r);
  if (!p.valid()) return 0;
  if (is_listpack()) {
    size_t n = 0;
    for (; p.valid() && r.LteMax(ScoreAt(p)); p = Next(p)) n++;
    return n;
  }
  // The rank of the last entry in range minus the rank of the first (zcountCommand).
  const ScoreTree& t = sl().tree();
  const size_t first = t.CountWhile([&r](const ScoreEntry& e) { return !r.GteMin(e.score); });
  const size_t end = t.CountWhile([&r](const ScoreEntry& e) { return r.LteMax(e.score); });
  return end - first;
}

size_t ZSetValue::LexCount(const LexRange& r) const {
  Pos p = FirstInLexRange(r);
  if (!p.valid()) return 0;
  char buf[21];
  if (is_listpack()) {
    size_t n = 0;
    for (; p.valid() && r.LteMax(Member(p, buf)); p = Next(p)) n++;
    return n;
  }
  const ScoreTree& t = sl().tree();
  const size_t first = t.CountWhile([&r](const ScoreEntry& e) { return !r.GteMin(e.member()); });
  const Pos last = LastInLexRange(r);
  if (!last.valid()) return size() - first;
  const size_t end = t.CountWhile([&r](const ScoreEntry& e) { return r.LteMax(e.member()); });
  // Unsigned as in Redis: with members of different scores the ends may cross.
  return end - first;
}

void ZSetValue::Pop(bool max, std::string* member, double* score) {
  const Pos p = max ? Last() : First();
  char buf[21];
  member->assign(Member(p, buf));
  *score = ScoreAt(p);
  if (is_listpack()) {
    lp().DeleteRange(p.lp, 2);
  } else {
    sl().EraseRange(max ? size() - 1 : 0, 1);
  }
}

size_t ZSetValue::DeleteRangeByRank(size_t start, size_t end) {
  const size_t n = end - start + 1;
  if (is_listpack()) {
    lp().DeleteRange(lp().Seek(static_cast<int64_t>(start * 2)), n * 2);
    return n;
  }
  return sl().EraseRange(start, n);
}

size_t ZSetValue::DeleteRangeByScore(const ScoreRange& r) {
  if (is_listpack()) {
    Pos p = FirstInRange(r);
    size_t n = 0;
    while (p.valid() && r.LteMax(ScoreAt(p))) {
      const uint32_t next = lp().DeleteRange(p.lp, 2);
      p.lp = next;
      n++;
    }
    return n;
  }
  // zslDeleteRangeByScore: from the first entry at or past min, while within max.
  const ScoreTree& t = sl().tree();
  const size_t start = t.CountWhile([&r](const ScoreEntry& e) { return !r.GteMin(e.score); });
  size_t n = 0;
  for (ScoreTree::Cursor c = t.At(start); c.valid() && r.LteMax(ScoreTree::Get(c).score);
       c = ScoreTree::Next(c)) {
    n++;
  }
  return n == 0 ? 0 : sl().EraseRange(start, n);
}

size_t ZSetValue::DeleteRangeByLex(const LexRange& r) {
  char buf[21];
  if (is_listpack()) {
    Pos p = FirstInLexRange(r);
    size_t n = 0;
    while (p.valid() && r.LteMax(Member(p, buf))) {
      p.lp = lp().DeleteRange(p.lp, 2);
      n++;
    }
    return n;
  }
  const ScoreTree& t = sl().tree();
  const size_t start = t.CountWhile([&r](const ScoreEntry& e) { return !r.GteMin(e.member()); });
  size_t n = 0;
  for (ScoreTree::Cursor c = t.At(start); c.valid() && r.LteMax(ScoreTree::Get(c).member());
       c = ScoreTree::Next(c)) {
    n++;
  }
  return n == 0 ? 0 : sl().EraseRange(start, n);
}

void ZSetValue::ForEach(const std::function<void(std::string_view, double)>& fn,
                        bool reverse) const {
  char buf[21];
  for (Pos p = reverse ? Last() : First(); p.valid(); p = reverse ? Prev(p) : Next(p)) {
    fn(Member(p, buf), ScoreAt(p));
  }
}

uint64_t ZSetValue::Scan(uint64_t cursor,
                         const std::function<void(std::string_view, std::string_view)>& fn) {
  if (is_listpack()) {
    const Listpack& l = lp();
    char mbuf[21], sbuf[21];
    for (uint32_t p = l.First(); p != Listpack::kEnd;) {
      const uint32_t s = l.Next(p);
      fn(l.Get(p).View(mbuf), l.Get(s).View(sbuf));
      p = l.Next(s);
    }
    return 0;
  }
  return sl().Scan(cursor, [&fn](const ZNode* n) { fn(n->key(), FormatDouble(n->score())); });
}

void ZSetValue::ConvertToSkiplist() {
  if (!is_listpack()) return;
  Listpack l = std::move(lp());
  auto index = std::make_unique<ZSetIndex>();
  char buf[21];
  for (uint32_t p = l.First(); p != Listpack::kEnd;) {
    const uint32_t s = l.Next(p);
    index->Insert(l.Get(p).View(buf), ElementScore(l.Get(s)));
    p = l.Next(s);
  }
  rep_ = std::move(index);
}

void ZSetValue::ConvertToListpackIfNeeded(size_t maxelelen, size_t totelelen,
                                          const Limits& limits) {
  if (is_listpack()) return;
  if (size() > limits.max_entries || maxelelen > limits.max_value ||
      totelelen > Listpack::kMaxSafetySize) {
    return;
  }
  Listpack l;
  ForEach([&l](std::string_view member, double score) {
    InsertPair(l, Listpack::kEnd, member, score);
  });
  rep_ = std::move(l);
}

}  // namespace keyward
