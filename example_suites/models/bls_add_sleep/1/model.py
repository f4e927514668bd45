"""A BLS model: OUTPUT0 = add(tile(sleep(INPUT0), 4)), through Triton's in-process inference requests."""

import numpy as np
import triton_python_backend_utils as pb_utils


def _call(model, data):
    request = pb_utils.InferenceRequest(model_name=model, requested_output_names=["OUTPUT0"],
                                        inputs=[pb_utils.Tensor("INPUT0", data)])
    response = request.exec()
    if response.has_error():
        raise pb_utils.TritonModelException(f"{model}: {response.error().message()}")
    return pb_utils.get_output_tensor_by_name(response, "OUTPUT0").as_numpy()


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            data = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            try:
                slept = _call("sleep", data)
                added = _call("add", np.tile(slept, (1, 4)).astype(np.float32))
                responses.append(pb_utils.InferenceResponse(output_tensors=[pb_utils.Tensor("OUTPUT0", added)]))
            except pb_utils.TritonModelException as exc:
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(exc))))
        return responses
