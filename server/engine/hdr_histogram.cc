#include "server/engine/hdr_histogram.h"

#include <algorithm>
#include <cmath>

namespace keyward {

namespace {

// hdr_calculate_bucket_config's buckets_needed_to_cover_value: the buckets, each twice as wide
// as the one before, until `value` is trackable.
int32_t BucketsNeededToCover(int64_t value, int32_t sub_bucket_count, int32_t unit_magnitude) {
  int64_t smallest_untrackable_value = static_cast<int64_t>(sub_bucket_count) << unit_magnitude;
  int32_t buckets_needed = 1;
  while (smallest_untrackable_value <= value) {
    if (smallest_untrackable_value > INT64_MAX / 2) return buckets_needed + 1;
    smallest_untrackable_value <<= 1;
    buckets_needed++;
  }
  return buckets_needed;
}

}  // namespace

HdrHistogram::HdrHistogram(int64_t lowest_discernible_value, int64_t highest_trackable_value,
                           int significant_figures) {
  // Values up to this one are counted one by one: 2 * 10^figures keeps `figures` digits.
  const int64_t largest_value_with_single_unit_resolution =
      2 * static_cast<int64_t>(std::pow(10, significant_figures));
  const auto sub_bucket_count_magnitude = static_cast<int32_t>(std::ceil(
      std::log(static_cast<double>(largest_value_with_single_unit_resolution)) / std::log(2)));
  sub_bucket_half_count_magnitude_ = std::max(sub_bucket_count_magnitude, 1) - 1;
  unit_magnitude_ = static_cast<int32_t>(
      std::floor(std::log(static_cast<double>(lowest_discernible_value)) / std::log(2)));
  sub_bucket_count_ = 1 << (sub_bucket_half_count_magnitude_ + 1);
  sub_bucket_half_count_ = sub_bucket_count_ / 2;
  sub_bucket_mask_ = (static_cast<int64_t>(sub_bucket_count_) - 1) << unit_magnitude_;
  bucket_count_ = BucketsNeededToCover(highest_trackable_value, sub_bucket_count_, unit_magnitude_);
  // Every bucket but the first shares its lower half with the previous one: only the upper
  // halves are stored, plus a whole first bucket.
  counts_len_ = (bucket_count_ + 1) * sub_bucket_half_count_;
  counts_.assign(static_cast<size_t>(counts_len_), 0);
}

int32_t HdrHistogram::BucketIndex(int64_t value) const {
  // The smallest power of two above the value (with the mask, at least the first bucket's).
  const int32_t pow2ceiling = 64 - __builtin_clzll(static_cast<uint64_t>(value | sub_bucket_mask_));
  return pow2ceiling - unit_magnitude_ - (sub_bucket_half_count_magnitude_ + 1);
}

int32_t HdrHistogram::SubBucketIndex(int64_t value, int32_t bucket_index) const {
  return static_cast<int32_t>(value >> (bucket_index + unit_magnitude_));
}

int32_t HdrHistogram::CountsIndex(int32_t bucket_index, int32_t sub_bucket_index) const {
  const int32_t bucket_base_index = (bucket_index + 1) << sub_bucket_half_count_magnitude_;
  const int32_t offset_in_bucket = sub_bucket_index - sub_bucket_half_count_;
  return bucket_base_index + offset_in_bucket;
}

int32_t HdrHistogram::CountsIndexFor(int64_t value) const {
  const int32_t bucket_index = BucketIndex(value);
  return CountsIndex(bucket_index, SubBucketIndex(value, bucket_index));
}

int64_t HdrHistogram::ValueFromIndex(int32_t bucket_index, int32_t sub_bucket_index) const {
  return static_cast<int64_t>(sub_bucket_index) << (bucket_index + unit_magnitude_);
}

int64_t HdrHistogram::ValueAtIndex(int32_t index) const {
  int32_t bucket_index = (index >> sub_bucket_half_count_magnitude_) - 1;
  int32_t sub_bucket_index = (index & (sub_bucket_half_count_ - 1)) + sub_bucket_half_count_;
  if (bucket_index < 0) {
    sub_bucket_index -= sub_bucket_half_count_;
    bucket_index = 0;
  }
  return ValueFromIndex(bucket_index, sub_bucket_index);
}

int64_t HdrHistogram::SizeOfEquivalentValueRange(int64_t value) const {
  const int32_t bucket_index = BucketIndex(value);
  const int32_t sub_bucket_index = SubBucketIndex(value, bucket_index);
  const int32_t adjusted_bucket =
      sub_bucket_index >= sub_bucket_count_ ? bucket_index + 1 : bucket_index;
  return int64_t{1} << (unit_magnitude_ + adjusted_bucket);
}

int64_t HdrHistogram::LowestEquivalentValue(int64_t value) const {
  const int32_t bucket_index = BucketIndex(value);
  return ValueFromIndex(bucket_index, SubBucketIndex(value, bucket_index));
}

int64_t HdrHistogram::HighestEquivalentValue(int64_t value) const {
  return LowestEquivalentValue(value) + SizeOfEquivalentValueRange(value) - 1;
}

bool HdrHistogram::Record(int64_t value) {
  if (value < 0) return false;
  const int32_t index = CountsIndexFor(value);
  if (index < 0 || index >= counts_len_) return false;
  counts_[static_cast<size_t>(index)]++;
  total_count_++;
  if (value < min_value_ && value != 0) min_value_ = value;
  max_value_ = std::max(max_value_, value);
  return true;
}

void HdrHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_count_ = 0;
  min_value_ = INT64_MAX;
  max_value_ = 0;
}

int64_t HdrHistogram::ValueAtPercentile(double percentile) const {
  const double requested = percentile < 100.0 ? percentile : 100.0;
  int64_t count_at_percentile =
      static_cast<int64_t>(((requested / 100) * static_cast<double>(total_count_)) + 0.5);
  count_at_percentile = std::max<int64_t>(count_at_percentile, 1);
  int64_t value_from_index = 0;
  int64_t count_to_index = 0;
  for (int32_t i = 0; i < counts_len_; i++) {
    count_to_index += counts_[static_cast<size_t>(i)];
    if (count_to_index >= count_at_percentile) {
      value_from_index = ValueAtIndex(i);
      break;
    }
  }
  if (percentile == 0.0) return LowestEquivalentValue(value_from_index);
  return HighestEquivalentValue(value_from_index);
}

std::vector<HdrHistogram::LogStep> HdrHistogram::LogBuckets(int64_t value_units_first_bucket,
                                                            double log_base) const {
  // hdr_iter_log_init + log_iter_next, step by step: the iterator walks the counts one index at
  // a time and stops at the first index whose value reaches the next reporting level's lowest
  // equivalent value; the levels grow by log_base.
  std::vector<LogStep> steps;
  int32_t index = -1;
  int64_t value = 0;
  int64_t cumulative = 0;
  int64_t highest_equivalent = 0;
  int64_t level = value_units_first_bucket;
  int64_t level_lowest = LowestEquivalentValue(level);
  for (;;) {
    const bool has_next = cumulative < total_count_;
    if (!has_next && ValueAtIndex(index + 1) <= level_lowest) return steps;
    while (value < level_lowest) {
      index++;
      if (index >= counts_len_) return steps;
      cumulative += counts_[static_cast<size_t>(index)];
      value = ValueAtIndex(index);
      highest_equivalent = LowestEquivalentValue(value) + SizeOfEquivalentValueRange(value) - 1;
    }
    steps.push_back({highest_equivalent, cumulative});
    level *= static_cast<int64_t>(log_base);
    level_lowest = LowestEquivalentValue(level);
  }
}

}  // namespace keyward
