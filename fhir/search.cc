// Searcher: search over a pinned read-model view. How a search runs:
//   1. parse: criteria (search_query.h), result parameters (_sort, _include, ...), paging;
//      unknown parameters are ignored and reported, or an error under strict handling;
//   2. candidates: every criterion the index serves gives a set of ids (a union over its
//      comma-separated values); the sets are intersected. Without such a criterion the type is
//      scanned;
//   3. matches: candidates whose JSON satisfies every criterion. When each criterion was answered
//      exactly by the index and the order is by id, no JSON is read before the page is cut;
//   4. order (by id unless _sort), total, the page, its _include/_revinclude resources, links.
// Pages after the first run the same query against the first page's view (the cursor), so
// matches cannot shift between pages while the projector writes.
#include "carehub/fhir/search.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "carehub/base/status_macros.h"
#include "carehub/base/strings.h"
#include "fhir/internal/search_cursors.h"
#include "fhir/internal/search_engine.h"
#include "fhir/internal/search_paging.h"

namespace carehub::fhir {

using internal::CursorCache;
using internal::Paging;

class Searcher::Impl {
 public:
  Impl(const ReadModel* model, const Options& options)
      : model_(model),
        cursors_(options.clock != nullptr ? options.clock : Clock::Real(), options.cursor_ttl,
                 options.max_cursors, std::random_device{}()) {}

  absl::StatusOr<SearchPage> Search(std::string_view type, const SearchParams& params,
                                    const SearchOptions& options) {
    ASSIGN_OR_RETURN(internal::SearchRequest request,
                     internal::ParseSearchRequest(type, params, options));
    ASSIGN_OR_RETURN(std::shared_ptr<const ReadModelView> view, ViewFor(request.paging));
    ASSIGN_OR_RETURN(SearchPage page, internal::RunSearch(*view, request));
    FinishPage(request.applied, request.paging, std::move(view), page.total.value_or(0), false,
               page);
    if (!request.want_total) page.total.reset();
    page.ignored = std::move(request.ignored);
    return page;
  }

  absl::StatusOr<SearchPage> History(std::string_view type, std::string_view id,
                                     const SearchParams& params, const SearchOptions& options) {
    ASSIGN_OR_RETURN(internal::HistoryRequest request,
                     internal::ParseHistoryRequest(type, params, options));
    ASSIGN_OR_RETURN(std::shared_ptr<const ReadModelView> view, ViewFor(request.paging));
    bool has_more = false;
    ASSIGN_OR_RETURN(SearchPage page, internal::RunHistory(*view, type, id, request, &has_more));
    FinishPage(request.applied, request.paging, std::move(view), page.total.value_or(0), has_more,
               page);
    page.ignored = std::move(request.ignored);
    return page;
  }

  absl::StatusOr<SearchPage> Everything(std::string_view patient_id, const SearchParams& params,
                                        const SearchOptions& options) {
    ASSIGN_OR_RETURN(internal::EverythingRequest request,
                     internal::ParseEverythingRequest(params, options));
    ASSIGN_OR_RETURN(std::shared_ptr<const ReadModelView> view, ViewFor(request.paging));
    ASSIGN_OR_RETURN(SearchPage page, internal::RunEverything(*view, patient_id, request));
    FinishPage(request.applied, request.paging, std::move(view), page.total.value_or(0), false,
               page);
    page.ignored = std::move(request.ignored);
    return page;
  }

 private:
  // The cursor's view for a later page; a new view for a first page.
  absl::StatusOr<std::shared_ptr<const ReadModelView>> ViewFor(const Paging& paging) {
    if (!paging.cursor.empty()) return cursors_.Get(paging.cursor);
    if (paging.offset != 0) {
      return absl::InvalidArgumentError("_offset is only valid with the _cursor of a paging link");
    }
    return model_->View();
  }

  // Pins the view under a cursor when there is another page to fetch from it, and sets links.
  void FinishPage(const SearchParams& applied, const Paging& paging,
                  std::shared_ptr<const ReadModelView> view, size_t total, bool has_more,
                  SearchPage& page) {
    std::string cursor = paging.cursor;
    const bool more = paging.count > 0 && (has_more || paging.offset + paging.count < total);
    if (cursor.empty() && more) cursor = cursors_.Put(std::move(view));
    internal::SetLinks(applied, paging, cursor, total, has_more, page);
  }

  const ReadModel* model_;
  CursorCache cursors_;
};

Searcher::Searcher(const ReadModel* model, Options options)
    : impl_(std::make_unique<Impl>(model, options)) {}
Searcher::~Searcher() = default;

absl::StatusOr<SearchPage> Searcher::Search(std::string_view type, const SearchParams& params,
                                            const SearchOptions& options) {
  return impl_->Search(type, params, options);
}

absl::StatusOr<SearchPage> Searcher::History(std::string_view type, std::string_view id,
                                             const SearchParams& params,
                                             const SearchOptions& options) {
  return impl_->History(type, id, params, options);
}

absl::StatusOr<SearchPage> Searcher::Everything(std::string_view patient_id,
                                                const SearchParams& params,
                                                const SearchOptions& options) {
  return impl_->Everything(patient_id, params, options);
}

}  // namespace carehub::fhir
