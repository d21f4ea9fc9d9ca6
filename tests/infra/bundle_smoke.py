"""Run under Lambda's Python (3.12) with ONLY a built bundle + the function code on sys.path, as Lambda would.

Usage: python3.12 -I bundle_smoke.py {api|worker} DEPS_DIR CODE_DIR RUNTIME_DIR [MODEL.tflite [SERVING.npz]]
RUNTIME_DIR stands in for what the Lambda runtime itself provides (boto3). Exercises what trimming could
break: the handler imports, pyarrow/pandas Parquet, Pillow decode, LiteRT inference, and (worker) OpenCV
image + video decode, statsmodels STL and a plotly HTML figure. Prints one JSON line.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile


def main() -> None:
    kind, deps, code, runtime = sys.argv[1:5]
    model = sys.argv[5] if len(sys.argv) > 5 else None
    # Lambda's order: function code (/var/task), then layers (/opt/python), then the runtime's packages.
    sys.path[:0] = [code, deps, runtime]
    os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                       "CRIMECAST_UPLOADS_BUCKET": "u", "CRIMECAST_DATA_BUCKET": "d",
                       "CRIMECAST_RESULTS_BUCKET": "r", "CRIMECAST_REPORTS_BUCKET": "p",
                       "CRIMECAST_MODELS_BUCKET": "d", "POWERTOOLS_METRICS_NAMESPACE": "smoke"})
    out: dict[str, object] = {"python": sys.version.split()[0]}

    import numpy as np
    from PIL import Image

    if kind == "api":
        # The API bundle has no pandas/pyarrow: it serves a run from its numpy artifact (crimecast.serving).
        for absent in ("pandas", "pyarrow", "cv2", "aws_lambda_powertools"):
            try:
                __import__(absent)
            except ImportError:
                continue
            raise AssertionError(f"{absent} is importable from the API bundle")
        artifact = sys.argv[6] if len(sys.argv) > 6 else None
        if artifact:
            from crimecast.serving import ServingForecasts

            with open(artifact, "rb") as f:
                run = ServingForecasts.from_bytes(f.read())
            rows = run.records(run.select(None, None, None, None))
            assert rows and rows[0]["y_pred"] is not None
            assert run.hotspots(0, 3)[0]["rank"] == 1
            assert sum(r["units"] for r in run.allocation(0, 5)) == 5
            out["serving_rows"] = len(rows)
    else:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        buf = io.BytesIO()
        pd.DataFrame({"date": pd.to_datetime(["2024-01-01", "2024-01-02"]), "y": [1.5, 2.5]}).to_parquet(buf)
        back = pd.read_parquet(io.BytesIO(buf.getvalue()))
        assert back["y"].tolist() == [1.5, 2.5]
        assert pq.read_table(io.BytesIO(buf.getvalue())).num_rows == 2
        out["pyarrow"] = pa.__version__
    img = Image.new("RGB", (32, 24), (200, 10, 10))
    jpg = io.BytesIO()
    img.save(jpg, format="JPEG")
    assert Image.open(io.BytesIO(jpg.getvalue())).convert("RGB").size == (32, 24)
    out["pillow"] = Image.__version__

    from ai_edge_litert.interpreter import Interpreter

    if model:
        interp = Interpreter(model_path=model, num_threads=1)
        interp.allocate_tensors()
        for d in interp.get_input_details():
            interp.set_tensor(d["index"], np.zeros(d["shape"], dtype=d["dtype"]))
        interp.invoke()
        o = interp.get_tensor(interp.get_output_details()[0]["index"])
        assert np.isfinite(o).all()
        out["litert_invoke"] = list(o.shape)

    class Ctx:
        function_name = f"crimecast-{kind}"
        memory_limit_in_mb = 1024
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:smoke"
        aws_request_id = "smoke-1"

    # Both bundles can serve the API (the worker image with -c crimecast:apiPackaging=image).
    from crimecast.handlers import api

    event = {"version": "2.0", "routeKey": "$default", "rawPath": "/v1/no-such-route", "rawQueryString": "",
             "headers": {"host": "x.execute-api.us-east-1.amazonaws.com"},
             "requestContext": {"http": {"method": "GET", "path": "/v1/no-such-route", "sourceIp": "1.2.3.4",
                                         "protocol": "HTTP/1.1", "userAgent": "smoke"},
                                "requestId": "r1", "stage": "$default", "accountId": "1", "apiId": "a",
                                "domainName": "x", "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 0},
             "isBase64Encoded": False}
    resp = api.handler(event, Ctx())
    assert resp["statusCode"] == 404, resp
    out["api_status"] = resp["statusCode"]
    if kind == "api":
        try:
            import cv2  # noqa: F401
            out["cv2"] = True
        except ImportError:
            out["cv2"] = False
    else:
        import cv2
        import plotly.graph_objects as go
        from crimecast.handlers import classify_upload, forecast_job  # noqa: F401
        from statsmodels.tsa.seasonal import STL

        ok, png = cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))
        assert ok and cv2.imdecode(png, cv2.IMREAD_COLOR).shape == (8, 8, 3)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "clip.mp4")
            w = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"mp4v"), 5.0, (64, 48))
            for i in range(10):
                w.write(np.full((48, 64, 3), i * 20, np.uint8))
            w.release()
            cap = cv2.VideoCapture(path)
            n = 0
            while cap.read()[0]:
                n += 1
            assert n == 10, n
        out["cv2_video_frames"] = n
        s = pd.Series(np.sin(np.arange(70) * 2 * np.pi / 7) + 5.0)
        assert STL(s, period=7).fit().seasonal.shape == (70,)
        html = go.Figure(go.Scatter(y=[1, 2, 3])).to_html(include_plotlyjs=False)
        assert "plotly" in html.lower()
        out["worker_handlers"] = True
    print(json.dumps(out))


if __name__ == "__main__":
    main()
