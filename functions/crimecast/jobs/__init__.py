"""Job logic behind the Lambda handlers (classify-upload, forecast-job); no powertools, no event parsing."""
