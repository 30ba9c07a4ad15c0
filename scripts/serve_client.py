#!/usr/bin/env python3
"""A real client of `facenet serve`, for its compatibility tests and as an example.

It speaks to the server the way existing TensorFlow Serving clients do: plain HTTP (requests) for the
REST API (model status, metadata, :predict in the row and columnar formats) and the PyPI
tensorflow-serving-api gRPC stub (PredictionServiceStub: Predict, GetModelMetadata). It also calls the
Face API's /v1/embed with a multipart upload. The model input is made as the Keras notebook makes it:
keras.utils.load_img, then np.around(x / 255.0, decimals=12).

Usage:
    serve_client.py check --http http://127.0.0.1:8080 --grpc 127.0.0.1:8500 --model facenet IMAGE...

prints one JSON object: the outputs of every call (raw model outputs, as TF Serving returns them),
which the Go test compares with the library.
"""
import argparse
import json
import sys

import grpc
import numpy as np
import requests


def notebook_input(path, size=(160, 160)):
    from keras.utils import load_img  # the notebook's loader (Pillow underneath)

    img = load_img(path, target_size=size)
    return np.around(np.array(img) / 255.0, decimals=12).astype(np.float32)


def check(args):
    import tensorflow as tf
    from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2, prediction_service_pb2_grpc

    x = np.stack([notebook_input(p) for p in args.images])
    base = args.http.rstrip("/")
    out = {}

    r = requests.get(f"{base}/v1/models/{args.model}", timeout=30)
    r.raise_for_status()
    out["status"] = r.json()
    r = requests.get(f"{base}/v1/models/{args.model}/metadata", timeout=30)
    r.raise_for_status()
    out["metadata"] = r.json()

    # Row format: one instance per image.
    r = requests.post(f"{base}/v1/models/{args.model}:predict", json={"instances": x.tolist()}, timeout=60)
    r.raise_for_status()
    out["rest_row"] = r.json()["predictions"]
    # Row format with named inputs.
    r = requests.post(f"{base}/v1/models/{args.model}:predict",
                      json={"signature_name": "serving_default", "instances": [{"input_1": i} for i in x.tolist()]},
                      timeout=60)
    r.raise_for_status()
    out["rest_row_named"] = r.json()["predictions"]
    # Columnar format.
    r = requests.post(f"{base}/v1/models/{args.model}:predict", json={"inputs": {"input_1": x.tolist()}}, timeout=60)
    r.raise_for_status()
    out["rest_columnar"] = r.json()["outputs"]
    # An error as TF Serving reports it.
    r = requests.post(f"{base}/v1/models/nosuchmodel:predict", json={"instances": [[1.0]]}, timeout=30)
    out["rest_unknown_model"] = {"status": r.status_code, "body": r.json()}

    with grpc.insecure_channel(args.grpc) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        req = predict_pb2.PredictRequest()
        req.model_spec.name = args.model
        req.model_spec.signature_name = "serving_default"
        req.inputs["input_1"].CopyFrom(tf.make_tensor_proto(x))
        resp = stub.Predict(req, timeout=60)
        out["grpc_predict"] = tf.make_ndarray(resp.outputs["output_0"]).tolist()
        out["grpc_model_spec"] = {"name": resp.model_spec.name, "version": resp.model_spec.version.value}

        mreq = get_model_metadata_pb2.GetModelMetadataRequest()
        mreq.model_spec.name = args.model
        mreq.metadata_field.append("signature_def")
        mresp = stub.GetModelMetadata(mreq, timeout=30)
        sigs = get_model_metadata_pb2.SignatureDefMap()
        mresp.metadata["signature_def"].Unpack(sigs)
        sig = sigs.signature_def["serving_default"]
        out["grpc_metadata"] = {
            "inputs": {k: [d.size for d in v.tensor_shape.dim] for k, v in sig.inputs.items()},
            "outputs": {k: [d.size for d in v.tensor_shape.dim] for k, v in sig.outputs.items()},
            "method_name": sig.method_name,
        }
        try:
            req.model_spec.name = "nosuchmodel"
            stub.Predict(req, timeout=30)
            out["grpc_unknown_model"] = "OK"
        except grpc.RpcError as e:
            out["grpc_unknown_model"] = e.code().name

    files = [("image", (p.rsplit("/", 1)[-1], open(p, "rb").read(), "image/jpeg")) for p in args.images]
    r = requests.post(f"{base}/v1/embed", files=files, data={"model": args.model}, timeout=60)
    r.raise_for_status()
    out["face_embed"] = r.json()["results"]

    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="call every TF Serving route and print the answers as JSON")
    c.add_argument("--http", required=True)
    c.add_argument("--grpc", required=True)
    c.add_argument("--model", required=True)
    c.add_argument("images", nargs="+")
    args = ap.parse_args()
    if args.cmd == "check":
        check(args)


if __name__ == "__main__":
    main()
