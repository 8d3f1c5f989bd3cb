// Functions the AG Grid column definitions of dashboards/app.py name ({"function": "..."}).
// Dash serves this file from assets/ with the app: nothing is fetched from elsewhere.
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

// A comparator ordering values by their place in `order` (the severities, least severe
// first), never alphabetically. A cell may be a severity ("high") or start with one ("high:
// Job has more workers than it needs", the jobs page's worst open finding): it ranks as that
// severity. A value `order` lacks (none, "") sorts before every other, as data.by_severity
// ranks it; dashboards/gridrows.py severity_rank is the same rule, for the CSV export.
dagfuncs.rankComparator = function (order) {
    var rank = function (value) {
        return order.indexOf(String(value == null ? "" : value).split(":")[0]);
    };
    return function (a, b) {
        return rank(a) - rank(b);
    };
};
