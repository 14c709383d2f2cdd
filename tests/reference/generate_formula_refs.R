# Reference values for tests/ml/formula_reference_test.cc: R's poly(), splines::ns(),
# treatment-coded interactions and relevel() (what mlprod's C(x, ref = "b") means), on small fixed
# datasets defined here. Run from the repository root:
#   Rscript tests/reference/generate_formula_refs.R > tests/reference/formula_refs.json
# CI does not run R; the JSON it printed is committed beside this script. Only base R and the
# recommended 'splines' package are used; JSON is written by hand with 17 significant digits
# (doubles round-trip exactly).
library(splines)

num <- function(v) {
  paste0("[", paste(ifelse(is.finite(v), sprintf("%.17g", v), "null"), collapse = ", "), "]")
}
str <- function(v) paste0("[", paste(sprintf("\"%s\"", gsub("\"", "\\\\\"", v)), collapse = ", "), "]")
mat <- function(m) paste0("[", paste(apply(m, 1, num), collapse = ",\n  "), "]")
field <- function(name, value) sprintf("\"%s\": %s", name, value)
obj <- function(...) paste0("{", paste(c(...), collapse = ",\n "), "}")

# The dataset: deterministic, no RNG.
i <- 1:40
x <- round(0.4 * i + 2 * sin(i), 4)
x1 <- round(5 + 3 * cos(1.3 * i), 4)
g <- factor(c("a", "b", "c")[(i * 7) %% 3 + 1], levels = c("a", "b", "c"))
y <- round(3 + 0.8 * x - 0.05 * x^2 + 0.6 * x1 + c(0, 1.5, -1)[as.integer(g)] +
           0.3 * x1 * (g == "c") + sin(3.7 * i), 4)
train <- data.frame(y = y, x = x, x1 = x1, g = g)
new_x <- c(min(x), max(x), -1.5, 0.3, 5.25, 9.9, 17.5, 25)
new_x1 <- c(2.1, 7.9, 5, 4.4, 3.3, 6.6, 1.2, 8.8)
new_g <- factor(c("a", "b", "c", "c", "b", "a", "c", "b"), levels = levels(g))
newdata <- data.frame(x = new_x, x1 = new_x1, g = new_g)

fit_ref <- function(name, formula, r_formula = formula) {
  fit <- lm(as.formula(r_formula), data = train)
  s <- summary(fit)$coefficients
  obj(field("formula", sprintf("\"%s\"", gsub("\"", "\\\\\"", formula))),
      field("r_terms", str(names(coef(fit)))),
      field("estimate", num(s[, 1])), field("std_error", num(s[, 2])),
      field("sigma", num(summary(fit)$sigma)),
      field("r_squared", num(summary(fit)$r.squared)),
      field("design", mat(model.matrix(fit))),
      field("predict_new", num(predict(fit, newdata))))
}

p3 <- poly(x, 3)
p3_new <- predict(p3, new_x)
ns4 <- ns(x, df = 4)
ns4_new <- predict(ns4, new_x)
ns1 <- ns(x, df = 1)
ns7 <- ns(x, df = 7)

cat(obj(
  field("generated_by", sprintf("\"%s, splines %s\"", R.version.string, packageVersion("splines"))),
  field("data", obj(field("y", num(y)), field("x", num(x)), field("x1", num(x1)),
                    field("g", str(as.character(g))))),
  field("new_data", obj(field("x", num(new_x)), field("x1", num(new_x1)),
                        field("g", str(as.character(new_g))))),
  field("poly3", obj(field("alpha", num(attr(p3, "coefs")$alpha)),
                     field("norm2", num(attr(p3, "coefs")$norm2)),
                     field("basis", mat(unclass(p3)[, 1:3])),
                     field("basis_new", mat(p3_new)))),
  field("ns4", obj(field("knots", num(attr(ns4, "knots"))),
                   field("boundary", num(attr(ns4, "Boundary.knots"))),
                   field("basis", mat(unclass(ns4)[, 1:4])),
                   field("basis_new", mat(ns4_new)))),
  field("ns1", obj(field("knots", num(attr(ns1, "knots"))),
                   field("basis", mat(unclass(ns1)[, 1, drop = FALSE])))),
  field("ns7", obj(field("knots", num(attr(ns7, "knots"))),
                   field("basis", mat(unclass(ns7)[, 1:7])),
                   field("basis_new", mat(predict(ns7, new_x))))),
  field("fits", paste0("[", paste(c(
    fit_ref("poly3", "y ~ poly(x, 3)"),
    fit_ref("ns4", "y ~ ns(x, 4)"),
    fit_ref("ns_df3_named", "y ~ ns(x, df = 3) + x1"),
    fit_ref("interaction", "y ~ x1*g"),
    fit_ref("poly_by_group", "y ~ poly(x, 2):g"),
    fit_ref("poly_star_group", "y ~ poly(x, 2)*g"),
    fit_ref("ns_no_intercept", "y ~ 0 + ns(x, 3) + g"),
    fit_ref("relevel", "y ~ x1 + C(g, ref = \"b\")", "y ~ x1 + relevel(g, ref = \"b\")"),
    fit_ref("relevel_interaction", "y ~ x1:C(g, ref = \"c\") + C(g, ref = \"c\")",
            "y ~ x1:relevel(g, ref = \"c\") + relevel(g, ref = \"c\")")),
    collapse = ",\n"), "]"))
), "\n")
