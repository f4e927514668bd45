"""Test-only: records where each instance runs (kind, device, the GPUs its server may see), then adds one."""

import json
import os

import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        probe = config.get("parameters", {}).get("probe_file", {}).get("string_value")
        if probe:
            record = {"kind": args["model_instance_kind"], "device_id": args["model_instance_device_id"],
                      "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}
            with open(probe, "a") as handle:
                handle.write(json.dumps(record) + "\n")

    def execute(self, requests):
        responses = []
        for request in requests:
            data = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            responses.append(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT0", data + 1)]))
        return responses
