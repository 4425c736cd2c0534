package v1alpha1

import "sigs.k8s.io/controller-runtime/pkg/client"

// Managed is implemented by every kind that the shared reconcile skeleton drives.
// +kubebuilder:object:generate=false
type Managed interface {
	client.Object
	// GetResourceStatus returns the shared part of the status, to be changed in place.
	GetResourceStatus() *ResourceStatus
	// GetConnectionName returns the WeComConnection the object uses.
	GetConnectionName() string
	// GetDeletionPolicy says what deleting the object does in WeCom.
	GetDeletionPolicy() DeletionPolicy
}

// GetConnectionName implements Managed.
func (s *ManagedSpec) GetConnectionName() string { return s.ConnectionRef.Name }

// GetDeletionPolicy implements Managed; an unset policy means Delete.
func (s *DeletableSpec) GetDeletionPolicy() DeletionPolicy {
	if s.DeletionPolicy == "" {
		return DeletionDelete
	}
	return s.DeletionPolicy
}

// GetDeletionPolicy implements Managed: WeCom has no API to dissolve a chat, so a chat is
// always released, never deleted.
func (s *WeComAppChatSpec) GetDeletionPolicy() DeletionPolicy { return DeletionOrphan }

func (o *WeComDepartment) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *WeComDepartment) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *WeComDepartment) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }

func (o *WeComUser) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *WeComUser) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *WeComUser) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }

func (o *WeComAppChat) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *WeComAppChat) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *WeComAppChat) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }

func (o *ContactWay) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *ContactWay) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *ContactWay) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }

func (o *Schedule) GetResourceStatus() *ResourceStatus { return &o.Status.ResourceStatus }
func (o *Schedule) GetConnectionName() string          { return o.Spec.GetConnectionName() }
func (o *Schedule) GetDeletionPolicy() DeletionPolicy  { return o.Spec.GetDeletionPolicy() }
