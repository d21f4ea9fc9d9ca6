"""crimecast: crime forecasting, surveillance-risk triage and patrol allocation.

The core package is shared by the CLI, the Lambda handlers, the demo and the training scripts.
It never imports TensorFlow; only `crimecast_training` (in training/) does.
"""

__version__ = "0.1.0"
