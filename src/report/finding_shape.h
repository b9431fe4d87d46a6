/* finding_shape.h - a stored finding in the exact response shapes of SCC's
 * API and console, for `findings show|list --format scc|scc-console` and the
 * console's API: ListFindingsResult {finding, resource, stateChange},
 * ListFindingsResponse {listFindingsResults, totalSize, readTime}, and the
 * console's JSON tab (resource keys in snake_case: project_display_name).
 */
#ifndef CW_FINDING_SHAPE_H
#define CW_FINDING_SHAPE_H

#include <jansson.h>

/* A ListFindingsResult: the finding without its embedded resource, the
 * resource beside it, stateChange "UNUSED" (no compareDuration asked). New
 * reference or NULL. */
json_t *cw_shape_list_result(const json_t *finding);

/* A ListFindingsResponse over an array of findings, totalSize the count of
 * all matches (not only this page), readTime now; nextPageToken when given.
 * New reference or NULL. */
json_t *cw_shape_list_response(const json_t *findings, long long total, const char *next_token);

/* The console's JSON tab: {"finding": ..., "resource": {snake_case keys}}.
 * New reference or NULL. */
json_t *cw_shape_console(const json_t *finding);

#endif
