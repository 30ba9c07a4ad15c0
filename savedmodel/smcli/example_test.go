package smcli_test

import (
	"log"
	"os"

	"github.com/facenet-go/facenet/savedmodel"
	"github.com/facenet-go/facenet/savedmodel/smcli"
)

// The same text as `saved_model_cli show --dir ... --tag_set serve --signature_def serving_default`.
func ExampleShow() {
	m, err := savedmodel.Read("../../testdata/savedmodel/half_plus_two")
	if err != nil {
		log.Fatal(err)
	}
	tags, key := "serve", "serving_default"
	if err := smcli.Show(os.Stdout, m, smcli.Options{TagSet: &tags, SignatureDef: &key}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// The given SavedModel SignatureDef contains the following input(s):
	//   inputs['x'] tensor_info:
	//       dtype: DT_FLOAT
	//       shape: (-1, 1)
	//       name: x:0
	// The given SavedModel SignatureDef contains the following output(s):
	//   outputs['y'] tensor_info:
	//       dtype: DT_FLOAT
	//       shape: (-1, 1)
	//       name: y:0
	// Method name is: tensorflow/serving/predict
}
