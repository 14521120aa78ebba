"""Audit findings: the questions auditors of education funds ask, each a small named rule
with its legal or policy basis, its parameters and its evidence, run as queries over the
views as of any date. `registry` lists them; `facts` is the view they read."""
