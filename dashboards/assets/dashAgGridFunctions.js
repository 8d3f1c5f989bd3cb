// Functions the AG Grid column definitions of dashboards/app.py name ({"function": "..."}).
// Dash serves this file from assets/ with the app: nothing is fetched from elsewhere.
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

// A comparator ordering values by their place in `order` (the severities, least severe
// first), never alphabetically; a value `order` lacks sorts before every other, as
// data.by_severity ranks it.
dagfuncs.rankComparator = function (order) {
    return function (a, b) {
        return order.indexOf(a) - order.indexOf(b);
    };
};
