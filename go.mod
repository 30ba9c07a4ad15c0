module github.com/facenet-go/facenet

go 1.26.0

require (
	github.com/nfnt/resize v0.0.0-20180221191011-83c6a9932646
	github.com/stretchr/testify v1.12.1
	github.com/wamuir/graft v0.10.0
	golang.org/x/sync v0.22.0
	golang.org/x/sys v0.50.0
	google.golang.org/protobuf v1.34.2
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
