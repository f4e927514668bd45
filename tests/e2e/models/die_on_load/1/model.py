"""Test-only: on its first load, kills the server 1 s into an 8 s initialisation; then adds one."""

import os
import signal
import time

import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        marker = os.path.join(args["model_repository"], "killed-once")
        if not os.path.exists(marker):
            open(marker, "w").close()
            time.sleep(1)
            os.kill(os.getppid(), signal.SIGKILL)
            time.sleep(8)  # the stub lives on, holding the server's connections, unless someone kills it

    def execute(self, requests):
        responses = []
        for request in requests:
            data = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            responses.append(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT0", data + 1)]))
        return responses
