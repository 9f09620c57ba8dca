"""Estimators: probit (ML/HC0/HC1/cluster), Heckman selection, random-effects probits,
predictions. They know nothing about the study."""
