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

// Dollars as the CLI prints them (advisor/report/labels.py money): "$1,234.56", "-$25.00"
// below zero, `missing` when there is none; `signed` puts "+" before a figure above zero too,
// and what rounds to nothing is "$0.00" without a sign (reconcile_cli and changes_cli _signed).
// The grids' rows hold dollars rounded to the cent, so no rounding rule is needed here.
dagfuncs.usd = function (value, signed, missing) {
    if (value == null) {
        return missing;
    }
    var size = Math.abs(value);
    if (size < 0.005) {
        return "$0.00";
    }
    var text = "$" + size.toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
    return (value < 0 ? "-" : signed ? "+" : "") + text;
};
