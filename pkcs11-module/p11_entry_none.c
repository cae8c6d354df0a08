/* The PKCS#11 entry points keyward does not offer (encryption, digests,
 * verification, recovery, dual-function, wrapping, secret-key generation,
 * operation state, object copies, token initialisation and the v3.0
 * message-based functions): CKR_FUNCTION_NOT_SUPPORTED, after the same
 * initialisation and session checks as every other entry point. */
#include "p11_int.h"

#define KW_EXPORT __attribute__((visibility("default")))

KW_EXPORT CK_RV
C_InitToken(CK_SLOT_ID slotID, CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen, CK_UTF8CHAR_PTR pLabel)
{
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_GetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
    CK_ULONG_PTR pulOperationStateLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_SetOperationState(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pOperationState,
    CK_ULONG ulOperationStateLen, CK_OBJECT_HANDLE hEncryptionKey,
    CK_OBJECT_HANDLE hAuthenticationKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_CopyObject(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hObject, CK_ATTRIBUTE_PTR pTemplate,
    CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phNewObject)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_EncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_Encrypt(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
    CK_BYTE_PTR pEncryptedData, CK_ULONG_PTR pulEncryptedDataLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_EncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
    CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_EncryptFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pLastEncryptedPart,
    CK_ULONG_PTR pulLastEncryptedPartLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_DigestInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_Digest(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
    CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_DigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_DigestKey(CK_SESSION_HANDLE hSession, CK_OBJECT_HANDLE hKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_DigestFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pDigest, CK_ULONG_PTR pulDigestLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_SignRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_SignRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
    CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
    CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_VerifyRecoverInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_VerifyRecover(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen,
    CK_BYTE_PTR pData, CK_ULONG_PTR pulDataLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_DigestEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
    CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_DecryptDigestUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
    CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_SignEncryptUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen,
    CK_BYTE_PTR pEncryptedPart, CK_ULONG_PTR pulEncryptedPartLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_DecryptVerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pEncryptedPart,
    CK_ULONG ulEncryptedPartLen, CK_BYTE_PTR pPart, CK_ULONG_PTR pulPartLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_GenerateKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
    CK_ATTRIBUTE_PTR pTemplate, CK_ULONG ulCount, CK_OBJECT_HANDLE_PTR phKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_WrapKey(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
    CK_OBJECT_HANDLE hWrappingKey, CK_OBJECT_HANDLE hKey, CK_BYTE_PTR pWrappedKey,
    CK_ULONG_PTR pulWrappedKeyLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_MessageEncryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_EncryptMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
    CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR pPlaintext,
    CK_ULONG ulPlaintextLen, CK_BYTE_PTR pCiphertext, CK_ULONG_PTR pulCiphertextLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_EncryptMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
    CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_EncryptMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
    CK_ULONG ulParameterLen, CK_BYTE_PTR pPlaintextPart, CK_ULONG ulPlaintextPartLen,
    CK_BYTE_PTR pCiphertextPart, CK_ULONG_PTR pulCiphertextPartLen, CK_FLAGS flags)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_MessageEncryptFinal(CK_SESSION_HANDLE hSession)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_MessageDecryptInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_DecryptMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
    CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR pCiphertext,
    CK_ULONG ulCiphertextLen, CK_BYTE_PTR pPlaintext, CK_ULONG_PTR pulPlaintextLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_DecryptMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
    CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData, CK_ULONG ulAssociatedDataLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_DecryptMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
    CK_ULONG ulParameterLen, CK_BYTE_PTR pCiphertextPart, CK_ULONG ulCiphertextPartLen,
    CK_BYTE_PTR pPlaintextPart, CK_ULONG_PTR pulPlaintextPartLen, CK_FLAGS flags)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_MessageDecryptFinal(CK_SESSION_HANDLE hSession)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_MessageSignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_SignMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
    CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_SignMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_SignMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
    CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_MessageSignFinal(CK_SESSION_HANDLE hSession)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_MessageVerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_VerifyMessage(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen,
    CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_VerifyMessageBegin(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter, CK_ULONG ulParameterLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_VerifyMessageNext(CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
    CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
    CK_ULONG ulSignatureLen)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}

KW_EXPORT CK_RV
C_MessageVerifyFinal(CK_SESSION_HANDLE hSession)
{
	kwp11_call c;
	CK_RV rv;

	if ((rv = kwp11_enter_session(hSession, &c, false)) != CKR_OK)
		return rv;
	kwp11_leave(&c);
	return CKR_FUNCTION_NOT_SUPPORTED;
}
