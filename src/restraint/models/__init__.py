"""Estimators: probit (ML/HC0/HC1/cluster), Heckman selection, random-effects probits,
predictions. They know nothing about the study."""

# Probit, selection and predictions (probit.py, heckman.py, heckprobit.py, predict.py);
# random-effects probits (re_probit.py, crossed.py, quadrature.py).
from restraint.models._re_common import blas_single_thread as blas_single_thread
from restraint.models._re_common import inner_threads as inner_threads
from restraint.models._re_common import process_threads as process_threads
from restraint.models.crossed import crossed_re_probit as crossed_re_probit
from restraint.models.heckman import HeckmanResults as HeckmanResults
from restraint.models.heckman import SelectionResult as SelectionResult
from restraint.models.heckman import heckman_two_step as heckman_two_step
from restraint.models.heckman import inverse_mills_ratio as inverse_mills_ratio
from restraint.models.heckprobit import HeckprobitResults as HeckprobitResults
from restraint.models.heckprobit import bivariate_normal_cdf as bivariate_normal_cdf
from restraint.models.heckprobit import heckprobit as heckprobit
from restraint.models.predict import changes as changes
from restraint.models.predict import predict as predict
from restraint.models.predict import profile_values as profile_values
from restraint.models.probit import ProbitResults as ProbitResults
from restraint.models.probit import probit as probit
from restraint.models.probit import probit_from_arrays as probit_from_arrays
from restraint.models.re_probit import REProbitResults as REProbitResults
from restraint.models.re_probit import re_probit as re_probit
