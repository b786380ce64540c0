import boto3


def test_real_boto3_reaches_moto_server_over_http(aws_env):
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="fixture-check")
    s3.put_object(Bucket="fixture-check", Key="a/b.txt", Body=b"hello")
    assert s3.get_object(Bucket="fixture-check", Key="a/b.txt")["Body"].read() == b"hello"
    assert s3.meta.endpoint_url == aws_env
