"""Setup and checks for bench/azure.sh, through the Azure SDK (azure-storage-blob).

    python3 blob.py ENDPOINT mkcontainer NAME...    # create containers (no error if they exist)
    python3 blob.py ENDPOINT sas NAME               # print a container SAS (all rights, 12 hours)
    python3 blob.py ENDPOINT sas                    # the same for the whole account
    python3 blob.py ENDPOINT count NAME PREFIX      # print how many blobs are under PREFIX
    python3 blob.py ENDPOINT md5 NAME BLOB          # print the MD5 of the blob's bytes, as read

ENDPOINT is the account's Blob endpoint (http://127.0.0.1:PORT/devstoreaccount1); the account
and key come from AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY.
"""

import datetime
import hashlib
import os
import sys

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import (
    AccountSasPermissions,
    BlobServiceClient,
    ContainerSasPermissions,
    ResourceTypes,
    generate_account_sas,
    generate_container_sas,
)


def main():
    endpoint, command, *args = sys.argv[1:]
    account, key = os.environ["AZURE_STORAGE_ACCOUNT"], os.environ["AZURE_STORAGE_KEY"]
    # The SDK defaults to a newer API version than Azurite accepts in its strict mode.
    credential = {"account_name": account, "account_key": key}
    service = BlobServiceClient(endpoint, credential=credential, api_version="2025-01-05")
    if command == "mkcontainer":
        for name in args:
            try:
                service.create_container(name)
            except ResourceExistsError:
                pass
    elif command == "sas":
        now = datetime.datetime.now(datetime.timezone.utc)
        start, expiry = now - datetime.timedelta(minutes=5), now + datetime.timedelta(hours=12)
        if args:
            rights = ContainerSasPermissions(read=True, add=True, create=True, write=True, delete=True, list=True)
            print(generate_container_sas(account, args[0], account_key=key, permission=rights, start=start, expiry=expiry))
        else:
            rights = AccountSasPermissions(read=True, add=True, create=True, write=True, delete=True, list=True)
            kinds = ResourceTypes(service=True, container=True, object=True)
            print(generate_account_sas(account, key, kinds, rights, start=start, expiry=expiry))
    elif command == "count":
        container = service.get_container_client(args[0])
        print(sum(1 for _ in container.list_blobs(name_starts_with=args[1])))
    elif command == "md5":
        digest = hashlib.md5()
        stream = service.get_blob_client(args[0], args[1]).download_blob(max_concurrency=4)
        for chunk in stream.chunks():
            digest.update(chunk)
        print(digest.hexdigest())
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
