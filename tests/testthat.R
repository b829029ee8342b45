library(testthat)
library(rjax)

test_check("rjax")
