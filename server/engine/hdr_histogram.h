// A High Dynamic Range histogram with the bucket layout and the arithmetic of HdrHistogram_c
// (the library Redis 7.0 vendors for its per-command latency histograms), so that INFO
// latencystats percentiles and LATENCY HISTOGRAM buckets come out as Redis computes them.
//
// Layout: values below 2 * sub_bucket_half_count are counted exactly; above that, each bucket
// doubles the range of the one before it and is split into sub_bucket_half_count sub-buckets,
// so every recorded value is known to `significant_figures` decimal digits. A value is reported
// back as the lowest or highest value of its sub-bucket (its "equivalent range").
#pragma once

#include <cstdint>
#include <vector>

namespace keyward {

class HdrHistogram {
 public:
  // lowest >= 1, highest >= 2 * lowest, significant_figures in [1, 5] (hdr_init's checks; the
  // caller passes constants).
  HdrHistogram(int64_t lowest_discernible_value, int64_t highest_trackable_value,
               int significant_figures);

  // hdr_record_value: false (and nothing counted) for a negative value or one past the range.
  bool Record(int64_t value);
  void Reset();

  int64_t total_count() const { return total_count_; }
  int64_t min() const { return total_count_ == 0 ? 0 : min_value_; }
  int64_t max() const { return max_value_; }
  int32_t counts_len() const { return counts_len_; }

  // hdr_value_at_percentile (HdrHistogram_c 0.11): the highest value equivalent to the one at
  // the percentile, or the lowest for percentile 0.
  int64_t ValueAtPercentile(double percentile) const;

  int64_t LowestEquivalentValue(int64_t value) const;
  int64_t HighestEquivalentValue(int64_t value) const;
  int64_t SizeOfEquivalentValueRange(int64_t value) const;
  // The value a counts index stands for (hdr_value_at_index).
  int64_t ValueAtIndex(int32_t index) const;
  int32_t CountsIndexFor(int64_t value) const;

  // One step of hdr_iter_log (value_units_first_bucket, log_base): the cumulative count up to
  // and including the sub-bucket that reached the reporting level, and that sub-bucket's highest
  // equivalent value, as Redis's LATENCY HISTOGRAM reads them.
  struct LogStep {
    int64_t highest_equivalent_value;
    int64_t cumulative_count;
  };
  std::vector<LogStep> LogBuckets(int64_t value_units_first_bucket, double log_base) const;

 private:
  int32_t BucketIndex(int64_t value) const;
  int32_t SubBucketIndex(int64_t value, int32_t bucket_index) const;
  int32_t CountsIndex(int32_t bucket_index, int32_t sub_bucket_index) const;
  int64_t ValueFromIndex(int32_t bucket_index, int32_t sub_bucket_index) const;

  int32_t unit_magnitude_ = 0;
  int32_t sub_bucket_half_count_magnitude_ = 0;
  int32_t sub_bucket_count_ = 0;
  int32_t sub_bucket_half_count_ = 0;
  int64_t sub_bucket_mask_ = 0;
  int32_t bucket_count_ = 0;
  int32_t counts_len_ = 0;
  int64_t min_value_ = INT64_MAX;
  int64_t max_value_ = 0;
  int64_t total_count_ = 0;
  std::vector<int64_t> counts_;
};

}  // namespace keyward
