"""Surveillance image / clip risk triage: decode, preprocess, LiteRT classifier, video rule, calibration.

Importing this package is cheap: the interpreter and OpenCV are loaded only when used.
"""

from crimecast.vision.decode import InputError
from crimecast.vision.model import ACTIONS, LEVELS, CrimeImageClassifier

__all__ = ["ACTIONS", "LEVELS", "CrimeImageClassifier", "InputError"]
